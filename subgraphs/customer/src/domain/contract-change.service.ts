import { v7 as uuidv7 } from 'uuid';
import { cleanName, DomainError, isUuid, parseIsoDate, type Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { appendToOutbox } from '@c2c/platform/events';
import { runIdempotent } from '@c2c/platform/graphql';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import { answerContractChange, insertContractChange } from '../data/contract-change.repository.ts';
import { SCHEMA } from '../data/tables.ts';
import { contractChangeRequestedEvent } from '../events/contract-change-events.ts';
import type { CrmPort } from '../ports/crm.port.ts';
import type { Caller } from './customer.service.ts';
import { validateOpportunitySeats } from './order.rules.ts';

export interface RecordContractChangeCommand {
  subscriptionId: string;
  seats: number;
  effectiveDate: string;
  reason?: string | null;
  idempotencyKey: string;
}

/**
 * Commercial amendments in the CRM: a customer-success user records an expansion or a reduction
 * of an account's contract; billing, which owns subscriptions, applies it as a seat amendment (or
 * refuses it with its reason) and the CRM records the answer. The change itself is our own
 * bookkeeping (table `contract_change`), whichever CRM holds the accounts; the subscription's
 * contract line is read from the CRM of record.
 */
export class ContractChangeService {
  constructor(
    private readonly deps: SubgraphDeps,
    private readonly crm: CrmPort,
  ) {}

  async record(command: RecordContractChangeCommand, who: Caller): Promise<{ changeId: string }> {
    if (!isUuid(command.subscriptionId)) {
      throw new DomainError(
        'SUBSCRIPTION_NOT_FOUND',
        `no subscription ${JSON.stringify(command.subscriptionId)}`,
        'subscriptionId',
      );
    }
    const input = {
      subscriptionId: command.subscriptionId.toLowerCase(),
      seats: validateOpportunitySeats(command.seats),
      effectiveDate: parseIsoDate(command.effectiveDate, 'effectiveDate'),
      reason: cleanName(command.reason, 'reason', 500, true),
    };
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      { scope: who.caller, key: command.idempotencyKey, operation: 'recordContractChange', input },
      async (trx) => {
        // The CRM knows an account's subscriptions from billing's events (its contract lines).
        const line = await this.crm.contractLine(input.subscriptionId, trx);
        if (!line) {
          throw new DomainError(
            'SUBSCRIPTION_NOT_FOUND',
            `the CRM has no contract for subscription ${input.subscriptionId}`,
            'subscriptionId',
          );
        }
        const row = await insertContractChange(trx, {
          id: uuidv7(),
          customer_id: line.customerId,
          subscription_id: input.subscriptionId,
          seats: input.seats,
          effective_date: input.effectiveDate,
          reason: input.reason,
          status: 'REQUESTED',
          correlation_id: who.correlationId,
          amendment_id: null,
          refusal_code: null,
          refusal_message: null,
        });
        await appendToOutbox(trx, SCHEMA, SCHEMA, [contractChangeRequestedEvent(row)], who);
        return { changeId: row.id };
      },
    );
    this.deps.afterCommit();
    return value;
  }

  /** Billing's answer, in the consumer's transaction. */
  async answered(
    trx: AnyTransaction,
    changeId: string,
    answer: { kind: 'accepted'; amendmentId: string } | { kind: 'refused'; code: string; message: string },
    log: Logger,
  ): Promise<void> {
    const written = await answerContractChange(
      trx,
      changeId,
      answer.kind === 'accepted'
        ? { status: 'ACCEPTED', amendment_id: answer.amendmentId, refusal_code: null, refusal_message: null }
        : {
            status: 'REFUSED',
            amendment_id: null,
            refusal_code: answer.code,
            refusal_message: answer.message,
          },
    );
    if (!written) log.warn({ changeId }, 'answer for an unknown or already answered contract change ignored');
    else log.info({ changeId, answer: answer.kind }, 'contract change answered');
  }
}
