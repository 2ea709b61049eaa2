import type { Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { recordStepOutcome, recordStepOutcomes } from './amendment-workflow.ts';

/**
 * What the CRM reports back about billing's subscriptions, applied in the consumer's transaction:
 * the CRM step of the amendment that changed the contract.
 */
export class CrmAcknowledgementService {
  /** The CRM recorded the contract; `false` when billing knows no such amendment. */
  /** The CRM synced amendments (one, or a batch's in their order): whether each found its amendment. */
  async syncedMany(
    trx: AnyTransaction,
    acks: readonly { amendmentId: string; at: Date; log: Logger }[],
  ): Promise<boolean[]> {
    const found = await recordStepOutcomes(
      trx,
      acks.map(({ amendmentId, at, log }) => ({
        where: { id: amendmentId },
        system: 'CRM' as const,
        outcome: { kind: 'done' as const, at },
        log,
      })),
    );
    return found.map((amendment) => amendment !== undefined);
  }

  async syncFailed(
    trx: AnyTransaction,
    failure: { amendmentId: string; error: string; attempts: number | null },
    log: Logger,
  ): Promise<boolean> {
    const found = await recordStepOutcome(
      trx,
      { id: failure.amendmentId },
      'CRM',
      { kind: 'failed', error: failure.error, attempts: failure.attempts },
      log,
    );
    return found !== undefined;
  }
}
