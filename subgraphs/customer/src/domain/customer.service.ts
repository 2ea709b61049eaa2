import { v5 as uuidv5 } from 'uuid';
import { cleanName, DomainError, type Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { appendToOutbox } from '@c2c/platform/events';
import { requestHash, runIdempotent } from '@c2c/platform/graphql';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import { SCHEMA } from '../data/tables.ts';
import { customerEvent } from '../events/customer-events.ts';
import type { AccountChanges, AccountPageQuery, CrmAccount, CrmChanges, CrmPort } from '../ports/crm.port.ts';
import { parseCustomerId, validateCountry, validateEmail, validateStatus } from './customer.rules.ts';

export interface CreateCustomerCommand {
  name: string;
  email: string;
  country: string;
  region?: string | null;
  businessUnit: string;
  segment?: string | null;
  parentId?: string | null;
  idempotencyKey: string;
}

export interface UpdateCustomerCommand {
  id: string;
  name?: string | null;
  email?: string | null;
  status?: string | null;
  country?: string | null;
  region?: string | null;
  businessUnit?: string | null;
  segment?: string | null;
  expectedVersion?: number | null;
  idempotencyKey: string;
}

export interface Caller {
  caller: string;
  correlationId: string;
}

const ACCOUNT_IDS = '6b1f3c2e-8d4a-4f7b-a5c9-0e2d7b9f4a18';

/**
 * The id of the account a request creates, derived from the request (caller, key, input): a retry
 * of the same request gets the same id, so the CRM of record finds its earlier write by it.
 */
export function requestedId(
  namespace: string,
  caller: string,
  key: string,
  operation: string,
  input: unknown,
) {
  return uuidv5(`${caller}\n${key}\n${requestHash(operation, input)}`, namespace);
}

/**
 * CRM use cases over the CRM of record (`CrmPort`). Each runs in one transaction with its
 * idempotency record and outbox events.
 */
export class CustomerService implements CrmChanges {
  constructor(
    private readonly deps: SubgraphDeps,
    private readonly crm: CrmPort,
  ) {}

  async createCustomer(command: CreateCustomerCommand, who: Caller): Promise<{ customerId: string }> {
    const values = {
      name: cleanName(command.name, 'name', 200),
      email: validateEmail(command.email),
      country: validateCountry(command.country),
      region: cleanName(command.region, 'region', 64, true),
      business_unit: cleanName(command.businessUnit, 'businessUnit', 64),
      segment: cleanName(command.segment, 'segment', 64, true),
      parent_id: command.parentId ? parseCustomerId(command.parentId, 'parentId') : null,
    };
    const request = {
      scope: who.caller,
      key: command.idempotencyKey,
      operation: 'createCustomer',
      input: values,
    };
    const { value } = await runIdempotent(this.deps.db, SCHEMA, request, async (trx) => {
      if (values.parent_id) await this.requireCustomer(trx, values.parent_id, 'parentId');
      const id = requestedId(ACCOUNT_IDS, who.caller, command.idempotencyKey, request.operation, values);
      const { account, created } = await this.crm.createAccount(trx, { id, status: 'ACTIVE', ...values });
      // Our own tables commit an account with its event, so one found there was announced; an
      // external CRM may hold an account whose announcing transaction of ours was lost.
      if (created || this.crm.external)
        await appendToOutbox(trx, SCHEMA, SCHEMA, [customerEvent('customer.created', account)], who);
      return { customerId: account.id };
    });
    this.deps.afterCommit();
    return value;
  }

  async updateCustomer(command: UpdateCustomerCommand, who: Caller): Promise<{ customerId: string }> {
    const id = parseCustomerId(command.id, 'id');
    const changes: AccountChanges = {};
    if (command.name != null) changes.name = cleanName(command.name, 'name', 200);
    if (command.email != null) changes.email = validateEmail(command.email);
    if (command.status != null) changes.status = validateStatus(command.status);
    if (command.country != null) changes.country = validateCountry(command.country);
    if (command.region !== undefined) changes.region = cleanName(command.region, 'region', 64, true);
    if (command.businessUnit != null)
      changes.business_unit = cleanName(command.businessUnit, 'businessUnit', 64);
    if (command.segment !== undefined) changes.segment = cleanName(command.segment, 'segment', 64, true);
    const expectedVersion = command.expectedVersion ?? null;
    if (expectedVersion !== null && (!Number.isInteger(expectedVersion) || expectedVersion < 1)) {
      throw new DomainError(
        'INVALID_VERSION',
        'expectedVersion must be a positive integer',
        'expectedVersion',
      );
    }
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      {
        scope: who.caller,
        key: command.idempotencyKey,
        operation: 'updateCustomer',
        input: { id, changes, expectedVersion },
      },
      async (trx) => {
        const current = await this.crm.lockAccount(trx, id);
        if (!current) throw new DomainError('CUSTOMER_NOT_FOUND', `no customer ${id}`, 'id');
        if (expectedVersion !== null && current.version !== expectedVersion) {
          throw new DomainError(
            'VERSION_CONFLICT',
            `customer ${id} is at version ${current.version}, not ${expectedVersion}`,
            'expectedVersion',
          );
        }
        const row = await this.crm.updateAccount(trx, id, changes, current.version);
        await appendToOutbox(trx, SCHEMA, SCHEMA, [customerEvent('customer.updated', row)], who);
        return { customerId: row.id };
      },
    );
    this.deps.afterCommit();
    return value;
  }

  /** One page of customers ordered by (name, id), and the total count of the filter. */
  customerPage(query: AccountPageQuery): Promise<{ rows: CrmAccount[]; totalCount: number }> {
    return this.crm.accountPage(query);
  }

  /** An account changed in an external CRM (its change feed): announced as `customer.updated`. */
  async accountChanged(accountId: string, log: Logger): Promise<'announced' | 'unknown'> {
    const outcome = await this.deps.db.transaction().execute(async (trx) => {
      const row = await this.crm.lockAccount(trx, accountId);
      if (!row) return 'unknown' as const;
      await appendToOutbox(trx, SCHEMA, SCHEMA, [customerEvent('customer.updated', row)], {
        correlationId: `crm-${this.crm.system}-${accountId}-v${row.version}`,
      });
      return 'announced' as const;
    });
    if (outcome === 'announced') this.deps.afterCommit();
    else
      log.warn({ accountId, system: this.crm.system }, 'change for an account the CRM does not hold ignored');
    return outcome;
  }

  private async requireCustomer(trx: AnyTransaction, id: string, field: string): Promise<CrmAccount> {
    const [row] = await this.crm.accounts([id], trx);
    if (!row) throw new DomainError('CUSTOMER_NOT_FOUND', `no customer ${id}`, field);
    return row;
  }
}
