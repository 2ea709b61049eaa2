import { UUID_PATTERN, z } from '@c2c/platform/core';
import { type EventEffect, reading, readingMany } from '@c2c/platform/events/reading';
import type { ErpAcknowledgementService } from '../domain/erp-acknowledgement.service.ts';

const InvoiceId = z.string().regex(UUID_PATTERN);

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

/**
 * Consumer `subscription.erp-ack`: what the ERP reports back about billing's documents, and the
 * ERP step of the amendment that issued one.
 */
export function erpAckConsumer(acks: ErpAcknowledgementService): Record<string, EventEffect> {
  return {
    // Applied many at a time in a batch: the ERP steps of all the posted documents together.
    'invoice.posted': readingMany(InvoicePosted, (trx, items) =>
      acks.postedMany(
        trx,
        items.map(({ data, log }) => ({
          invoiceId: data.invoiceId.toLowerCase(),
          journalEntryId: data.journalEntryId,
          postedAt: new Date(data.postedAt),
          log,
        })),
      ),
    ),
    'posting.failed': reading(PostingFailed, (trx, data, _event, log) =>
      acks.postingFailed(
        trx,
        { invoiceId: data.invoiceId.toLowerCase(), error: data.error, attempts: data.attempts ?? null },
        log,
      ),
    ),
    'payment.applied': reading(PaymentApplied, (trx, data, _event, log) =>
      acks.paymentApplied(
        trx,
        { invoiceId: data.invoiceId.toLowerCase(), amountDueMinor: data.amountDueMinor },
        log,
      ),
    ),
  };
}
