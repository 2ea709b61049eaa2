import type { Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { recordStepOutcome } from './amendment-workflow.ts';

/**
 * What the CRM reports back about billing's subscriptions, applied in the consumer's transaction:
 * the CRM step of the amendment that changed the contract.
 */
export class CrmAcknowledgementService {
  /** The CRM recorded the contract; `false` when billing knows no such amendment. */
  async synced(trx: AnyTransaction, ack: { amendmentId: string; at: Date }, log: Logger): Promise<boolean> {
    const found = await recordStepOutcome(
      trx,
      { id: ack.amendmentId },
      'CRM',
      { kind: 'done', at: ack.at },
      log,
    );
    return found !== undefined;
  }

  /** The CRM gave up on the contract; `false` when billing knows no such amendment. */
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
