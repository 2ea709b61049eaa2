import type { Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import type { BillingPort } from '../ports/billing.port.ts';
import { recordStepOutcome, recordStepOutcomes, type StepReport } from './amendment-workflow.ts';

/**
 * What the ERP reports back about billing's documents, applied in the consumer's transaction: the
 * document's posting status or payment, and the ERP step of the amendment that issued it.
 */
export class ErpAcknowledgementService {
  constructor(private readonly billing: BillingPort) {}

  /**
   * The ERP posted documents (one, or a batch's in their order): each document's posting, then the
   * ERP steps of all their amendments together (recordStepOutcomes).
   */
  async postedMany(
    trx: AnyTransaction,
    acks: readonly { invoiceId: string; journalEntryId: string; postedAt: Date; log: Logger }[],
  ): Promise<void> {
    const reports: StepReport[] = [];
    for (const { log, ...ack } of acks) {
      if (await this.billing.recordPosted(trx, ack))
        reports.push({
          where: { invoiceId: ack.invoiceId },
          system: 'ERP',
          outcome: { kind: 'done', at: ack.postedAt },
          log,
        });
      else log.warn({ invoiceId: ack.invoiceId }, 'invoice.posted for an unknown invoice ignored');
    }
    await recordStepOutcomes(trx, reports);
  }

  async postingFailed(
    trx: AnyTransaction,
    failure: { invoiceId: string; error: string; attempts: number | null },
    log: Logger,
  ): Promise<void> {
    const changed = await this.billing.recordPostingFailed(
      trx,
      failure.invoiceId,
      failure.error.slice(0, 2000),
    );
    if (!changed) {
      log.warn({ invoiceId: failure.invoiceId }, 'posting.failed ignored: unknown or already posted invoice');
      return;
    }
    await recordStepOutcome(
      trx,
      { invoiceId: failure.invoiceId },
      'ERP',
      { kind: 'failed', error: failure.error, attempts: failure.attempts },
      log,
    );
  }

  /** Partial payments leave the invoice OPEN; the ERP owns the amount still due. */
  async paymentApplied(
    trx: AnyTransaction,
    payment: { invoiceId: string; amountDueMinor: number },
    log: Logger,
  ): Promise<void> {
    if (payment.amountDueMinor !== 0) return;
    const changed = await this.billing.markPaid(trx, payment.invoiceId);
    if (!changed) log.debug({ invoiceId: payment.invoiceId }, 'payment.applied: invoice unknown or not OPEN');
  }
}
