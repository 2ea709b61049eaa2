import { z } from '@c2c/platform/core';
import { type EventEffect, reading } from '@c2c/platform/events';
import { markPaid, markPosted, markPostingFailed } from '../data/invoice.repository.ts';
import { recordStepOutcome } from '../domain/amendment-workflow.ts';

const InvoiceId = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);

const InvoicePosted = z.object({
  invoiceId: InvoiceId,
  journalEntryId: z.string().min(1),
  postedAt: z.iso.datetime({ offset: true }),
});
const PostingFailed = z.object({
  invoiceId: InvoiceId,
  error: z.string(),
  attempts: z.number().int().positive().nullish(),
});
const PaymentApplied = z.object({ invoiceId: InvoiceId, amountDueMinor: z.number().int() });

const onInvoicePosted = reading(InvoicePosted, async (trx, data, event, log) => {
  const found = await markPosted(
    trx,
    data.invoiceId.toLowerCase(),
    data.journalEntryId,
    new Date(data.postedAt),
  );
  if (!found) {
    log.warn({ invoiceId: data.invoiceId }, 'invoice.posted for an unknown invoice ignored');
    return;
  }
  // An amendment's document: the ERP step of its workflow is done.
  await recordStepOutcome(
    trx,
    { invoiceId: data.invoiceId.toLowerCase() },
    'ERP',
    { kind: 'done', at: new Date(data.postedAt) },
    log,
  );
});

const onPostingFailed = reading(PostingFailed, async (trx, data, event, log) => {
  const changed = await markPostingFailed(trx, data.invoiceId.toLowerCase(), data.error.slice(0, 2000));
  if (!changed) {
    log.warn({ invoiceId: data.invoiceId }, 'posting.failed ignored: unknown or already posted invoice');
    return;
  }
  await recordStepOutcome(
    trx,
    { invoiceId: data.invoiceId.toLowerCase() },
    'ERP',
    { kind: 'failed', error: data.error, attempts: data.attempts ?? null },
    log,
  );
});

const onPaymentApplied = reading(PaymentApplied, async (trx, data, event, log) => {
  // Partial payments leave the invoice OPEN; the ERP owns the amount still due.
  if (data.amountDueMinor !== 0) return;
  const changed = await markPaid(trx, data.invoiceId.toLowerCase());
  if (!changed) log.debug({ invoiceId: data.invoiceId }, 'payment.applied: invoice unknown or not OPEN');
});

/**
 * Consumer `subscription.erp-ack`: what the ERP reports back about billing's documents, and the
 * ERP step of the amendment that issued one.
 */
export const erpAckConsumer: Record<string, EventEffect> = {
  'invoice.posted': onInvoicePosted,
  'posting.failed': onPostingFailed,
  'payment.applied': onPaymentApplied,
};
