import type { Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import type { BillingPort } from '../ports/billing.port.ts';
import { recordStepOutcome } from './amendment-workflow.ts';

/**
 * What the ERP reports back about billing's documents, applied in the consumer's transaction: the
 * document's posting status or payment, and the ERP step of the amendment that issued it.
 */
export class ErpAcknowledgementService {
  constructor(private readonly billing: BillingPort) {}

  async posted(
    trx: AnyTransaction,
    ack: { invoiceId: string; journalEntryId: string; postedAt: Date },
    log: Logger,
  ): Promise<void> {
    const found = await this.billing.recordPosted(trx, ack);
    if (!found) {
      log.warn({ invoiceId: ack.invoiceId }, 'invoice.posted for an unknown invoice ignored');
      return;
    }
    // An amendment's document: the ERP step of its workflow is done.
    await recordStepOutcome(
      trx,
      { invoiceId: ack.invoiceId },
      'ERP',
      { kind: 'done', at: ack.postedAt },
      log,
    );
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
