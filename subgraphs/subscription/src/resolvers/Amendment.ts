import { present } from '@c2c/platform/graphql';
import { money } from '@c2c/platform/core';
import type { AmendmentRow } from '../data/amendment.repository.ts';
import type { InvoiceRow } from '../data/invoice.repository.ts';
import type { SubscriptionContext } from '../context.ts';
import type { AmendmentResolvers } from '../generated/resolvers.ts';

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

export const Amendment: AmendmentResolvers = {
  __resolveReference: (ref, ctx) => ctx.loadAmendment(ref.id),
  correlationId: (row) => row.correlation_id,
  effectiveDate: (row) => row.effective_date,
  seatsBefore: (row) => row.seats_before,
  seatsAfter: (row) => row.seats_after,
  proration: (row) => (row.proration_minor === null ? null : money(row.proration_minor, row.currency)),
  invoice: (row, _, ctx) => documentOf(row, ctx, true),
  creditNote: (row, _, ctx) => documentOf(row, ctx, false),
  subscription: (row, _, ctx) =>
    present(ctx.loaders.subscriptionById.load(row.subscription_id), `subscription ${row.subscription_id}`),
  steps: (row, _, ctx) => ctx.loaders.stepsByAmendmentId.load(row.id),
  createdAt: (row) => row.created_at,
};
