import { money } from '@c2c/platform/core';
import type { AmendmentRow } from '../data/amendment.repository.ts';
import type { InvoiceRow } from '../data/invoice.repository.ts';
import type { SubscriptionContext } from '../context.ts';

/**
 * The proration's sign says which document it is: an invoice bills more seats, a credit note fewer.
 * A document without a proration is a renewal's period invoice.
 */
const isInvoice = (row: AmendmentRow) => row.proration_minor === null || row.proration_minor > 0;
/** A mutation's payload carries the document as it was issued; a query loads it. */
type AmendmentView = AmendmentRow & { document?: InvoiceRow | null };
const documentOf = (row: AmendmentView, ctx: SubscriptionContext, invoice: boolean) => {
  if (row.invoice_id === null || isInvoice(row) !== invoice) return null;
  return row.document ?? ctx.loaders.invoiceById.load(row.invoice_id);
};

export const Amendment = {
  __resolveReference: (ref: { id: string }, ctx: SubscriptionContext) => ctx.loadAmendment(ref.id),
  correlationId: (row: AmendmentRow) => row.correlation_id,
  effectiveDate: (row: AmendmentRow) => row.effective_date,
  seatsBefore: (row: AmendmentRow) => row.seats_before,
  seatsAfter: (row: AmendmentRow) => row.seats_after,
  proration: (row: AmendmentRow) =>
    row.proration_minor === null ? null : money(row.proration_minor, row.currency),
  invoice: (row: AmendmentView, _: unknown, ctx: SubscriptionContext) => documentOf(row, ctx, true),
  creditNote: (row: AmendmentView, _: unknown, ctx: SubscriptionContext) => documentOf(row, ctx, false),
  subscription: (row: AmendmentRow, _: unknown, ctx: SubscriptionContext) =>
    ctx.loaders.subscriptionById.load(row.subscription_id),
  steps: (row: AmendmentRow, _: unknown, ctx: SubscriptionContext) =>
    ctx.loaders.stepsByAmendmentId.load(row.id),
  createdAt: (row: AmendmentRow) => row.created_at,
};
