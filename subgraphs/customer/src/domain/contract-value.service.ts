import type { Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { appendToOutbox, type Causality } from '@c2c/platform/events';
import { SCHEMA } from '../data/tables.ts';
import { contractSyncedEvent, contractSyncFailedEvent } from '../events/contract-events.ts';
import type { ContractLine, CrmAccount, CrmPort } from '../ports/crm.port.ts';

/**
 * The CRM's contract value (ARR) kept from billing's subscriptions: applied in the consumer's
 * transaction, announced back to billing, and read for reconciliation.
 */
export class ContractValueService {
  constructor(private readonly crm: CrmPort) {}

  /**
   * Applies subscriptions' contract lines in their order (one, or a batch's: the CRM writes them
   * together) and announces each customer's contract value as it stood right after each line, in
   * the same transaction — a stale version changes nothing (the newer one already covers it) and
   * is announced too.
   */
  async applySubscriptions(
    trx: AnyTransaction,
    items: readonly {
      line: ContractLine & { amendmentId?: string | null };
      causality: Causality;
      log: Logger;
    }[],
  ): Promise<void> {
    const applied = await this.crm.applyContractLines(
      trx,
      items.map(({ line: { amendmentId: _, ...contractLine } }) => contractLine),
    );
    for (const [i, { line, causality, log }] of items.entries()) {
      const { written, value } = applied[i]!;
      if (!written)
        log.debug(
          { subscriptionId: line.subscriptionId, version: line.sourceVersion },
          'stale subscription event ignored',
        );
      await appendToOutbox(
        trx,
        SCHEMA,
        SCHEMA,
        [
          contractSyncedEvent({
            subscriptionId: line.subscriptionId,
            customerId: line.customerId,
            subscriptionVersion: line.sourceVersion,
            ...(line.amendmentId ? { amendmentId: line.amendmentId } : {}),
            ...value,
          }),
        ],
        causality,
      );
    }
  }

  /** Announces that the CRM gave up on a subscription's event, so billing can show the step failed. */
  async announceSyncFailed(
    trx: AnyTransaction,
    failure: { subscriptionId: string; amendmentId: string | null; error: string; attempts: number },
    causality: Causality,
  ): Promise<void> {
    const { amendmentId, ...rest } = failure;
    await appendToOutbox(
      trx,
      SCHEMA,
      SCHEMA,
      [
        contractSyncFailedEvent({
          subscriptionId: rest.subscriptionId,
          ...(amendmentId ? { amendmentId } : {}),
          error: rest.error,
          attempts: rest.attempts,
        }),
      ],
      causality,
    );
  }

  /** Reconciliation: customers with a contract value, by id, after the keyset position. */
  page(afterId: string | null, limit: number): Promise<CrmAccount[]> {
    return this.crm.contractValuePage(afterId, limit);
  }

  count(): Promise<number> {
    return this.crm.contractValueCount();
  }
}
