import { v7 as uuidv7 } from 'uuid';
import { cleanName, DomainError, isUuid } from '@c2c/platform/core';
import { appendToOutbox } from '@c2c/platform/events';
import { runIdempotent } from '@c2c/platform/graphql';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import type { AnyTransaction } from '@c2c/platform/db';
import { findLiveOrder, findOrderPage, insertOrder } from '../data/order.repository.ts';
import { SCHEMA } from '../data/tables.ts';
import { opportunityWonEvent } from '../events/opportunity-events.ts';
import type { CrmOpportunity, CrmPort, OpportunityChanges } from '../ports/crm.port.ts';
import { requestedId, type Caller } from './customer.service.ts';
import { parseCustomerId } from './customer.rules.ts';
import {
  validateExpectedVersion,
  validateOpportunitySeats,
  validatePlanCode,
  validateStartDate,
} from './order.rules.ts';

export interface CreateOpportunityCommand {
  customerId: string;
  name: string;
  planCode: string;
  seats: number;
  startDate: string;
  idempotencyKey: string;
}

export interface UpdateOpportunityCommand {
  opportunityId: string;
  name?: string | null;
  planCode?: string | null;
  seats?: number | null;
  startDate?: string | null;
  expectedVersion?: number | null;
  idempotencyKey: string;
}

export interface CloseOpportunityCommand {
  opportunityId: string;
  expectedVersion?: number | null;
  idempotencyKey: string;
}

function parseOpportunityId(value: string): string {
  if (!isUuid(value)) {
    throw new DomainError(
      'OPPORTUNITY_NOT_FOUND',
      `no opportunity ${JSON.stringify(value)}`,
      'opportunityId',
    );
  }
  return value.toLowerCase();
}

const OPPORTUNITY_IDS = 'c4e8a1d6-2b7f-4e3a-9c5d-8f1b6a0e7d42';

/**
 * Opportunities in the CRM of record (`CrmPort`), and winning one: the opportunity turns WON, its
 * order is recorded (VALIDATING; the order is our own bookkeeping) and `opportunity.won` is
 * appended, in one transaction. Billing runs the checks.
 */
export class OpportunityService {
  constructor(
    private readonly deps: SubgraphDeps,
    private readonly crm: CrmPort,
  ) {}

  async create(command: CreateOpportunityCommand, who: Caller): Promise<{ opportunityId: string }> {
    const values = {
      customer_id: parseCustomerId(command.customerId, 'customerId'),
      name: cleanName(command.name, 'name', 200),
      plan_code: validatePlanCode(command.planCode),
      seats: validateOpportunitySeats(command.seats),
      start_date: validateStartDate(command.startDate),
    };
    const operation = 'createOpportunity';
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      { scope: who.caller, key: command.idempotencyKey, operation, input: values },
      async (trx) => {
        const [customer] = await this.crm.accounts([values.customer_id], trx);
        if (!customer) {
          throw new DomainError('CUSTOMER_NOT_FOUND', `no customer ${values.customer_id}`, 'customerId');
        }
        const id = requestedId(OPPORTUNITY_IDS, who.caller, command.idempotencyKey, operation, values);
        const row = await this.crm.createOpportunity(trx, { id, stage: 'OPEN', ...values });
        return { opportunityId: row.id };
      },
    );
    return value;
  }

  async update(command: UpdateOpportunityCommand, who: Caller): Promise<{ opportunityId: string }> {
    const id = parseOpportunityId(command.opportunityId);
    const changes: OpportunityChanges = {};
    if (command.name != null) changes.name = cleanName(command.name, 'name', 200);
    if (command.planCode != null) changes.plan_code = validatePlanCode(command.planCode);
    if (command.seats != null) changes.seats = validateOpportunitySeats(command.seats);
    if (command.startDate != null) changes.start_date = validateStartDate(command.startDate);
    const expectedVersion = validateExpectedVersion(command.expectedVersion);
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      {
        scope: who.caller,
        key: command.idempotencyKey,
        operation: 'updateOpportunity',
        input: { id, changes, expectedVersion },
      },
      async (trx) => {
        const current = await this.requireOpen(trx, id, expectedVersion);
        const row = await this.crm.updateOpportunity(trx, id, changes, current.version);
        return { opportunityId: row.id };
      },
    );
    return value;
  }

  /**
   * Wins an opportunity and starts its order. Winning a WON opportunity again (same or another
   * key) returns its one order: billing never sees a second `opportunity.won` for it.
   */
  async win(
    command: CloseOpportunityCommand,
    who: Caller,
  ): Promise<{ opportunityId: string; orderId: string }> {
    const id = parseOpportunityId(command.opportunityId);
    const expectedVersion = validateExpectedVersion(command.expectedVersion);
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      {
        scope: who.caller,
        key: command.idempotencyKey,
        operation: 'winOpportunity',
        input: { id, expectedVersion },
      },
      async (trx) => {
        const current = await this.crm.lockOpportunity(trx, id);
        if (!current) throw new DomainError('OPPORTUNITY_NOT_FOUND', `no opportunity ${id}`, 'opportunityId');
        if (current.stage === 'WON') {
          const order = await findLiveOrder(trx, id);
          if (!order) throw new Error(`won opportunity ${id} has no order`);
          return { opportunityId: id, orderId: order.id };
        }
        this.requireOpenStage(current, expectedVersion);
        const won = await this.crm.updateOpportunity(trx, id, { stage: 'WON' }, current.version);
        const order = await insertOrder(trx, {
          id: uuidv7(),
          opportunity_id: id,
          customer_id: won.customer_id,
          status: 'VALIDATING',
          correlation_id: who.correlationId,
          subscription_id: null,
          first_invoice_id: null,
        });
        await appendToOutbox(trx, SCHEMA, SCHEMA, [opportunityWonEvent(won, order)], who);
        return { opportunityId: id, orderId: order.id };
      },
    );
    this.deps.afterCommit();
    return value;
  }

  async lose(command: CloseOpportunityCommand, who: Caller): Promise<{ opportunityId: string }> {
    const id = parseOpportunityId(command.opportunityId);
    const expectedVersion = validateExpectedVersion(command.expectedVersion);
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      {
        scope: who.caller,
        key: command.idempotencyKey,
        operation: 'loseOpportunity',
        input: { id, expectedVersion },
      },
      async (trx) => {
        const current = await this.requireOpen(trx, id, expectedVersion);
        await this.crm.updateOpportunity(trx, id, { stage: 'LOST' }, current.version);
        return { opportunityId: id };
      },
    );
    return value;
  }

  /** Orders newest first, optionally of one status (the ops console). */
  orderPage(query: Parameters<typeof findOrderPage>[1]) {
    return findOrderPage(this.deps.db, query);
  }

  /** Reconciliation: WON opportunities by id after the keyset position. */
  wonPage(afterId: string | null, limit: number): Promise<CrmOpportunity[]> {
    return this.crm.wonOpportunityPage(afterId, limit);
  }

  countWon(): Promise<number> {
    return this.crm.wonOpportunityCount();
  }

  private async requireOpen(
    trx: AnyTransaction,
    id: string,
    expectedVersion: number | null,
  ): Promise<CrmOpportunity> {
    const current = await this.crm.lockOpportunity(trx, id);
    if (!current) throw new DomainError('OPPORTUNITY_NOT_FOUND', `no opportunity ${id}`, 'opportunityId');
    this.requireOpenStage(current, expectedVersion);
    return current;
  }

  private requireOpenStage(current: CrmOpportunity, expectedVersion: number | null): void {
    if (current.stage !== 'OPEN') {
      throw new DomainError(
        current.stage === 'LOST' ? 'OPPORTUNITY_LOST' : 'OPPORTUNITY_WON',
        `opportunity ${current.id} is ${current.stage}; only an OPEN opportunity can change`,
        'opportunityId',
      );
    }
    if (expectedVersion !== null && current.version !== expectedVersion) {
      throw new DomainError(
        'VERSION_CONFLICT',
        `opportunity ${current.id} is at version ${current.version}, not ${expectedVersion}`,
        'expectedVersion',
      );
    }
  }
}
