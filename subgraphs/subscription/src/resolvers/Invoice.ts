import { money } from '@c2c/platform/core';
import type { InvoiceRow } from '../data/invoice.repository.ts';
import type { SubscriptionContext } from '../context.ts';

export const Invoice = {
  __resolveReference: (ref: { id: string }, ctx: SubscriptionContext) => ctx.loadInvoice(ref.id),
  issuedOn: (row: InvoiceRow) => row.issued_on,
  dueOn: (row: InvoiceRow) => row.due_on,
  subtotal: (row: InvoiceRow) => money(row.subtotal_minor, row.currency),
  tax: (row: InvoiceRow) => money(row.tax_minor, row.currency),
  total: (row: InvoiceRow) => money(row.total_minor, row.currency),
  taxRateMissing: (row: InvoiceRow) => row.tax_rate_missing,
  // Lines carry no currency of their own: they are in the invoice's.
  lines: async (row: InvoiceRow, _: unknown, ctx: SubscriptionContext) =>
    (await ctx.loaders.linesByInvoiceId.load(row.id)).map((line) => ({ ...line, currency: row.currency })),
  customer: (row: InvoiceRow) => ({ __typename: 'Customer', id: row.customer_id }),
  subscription: (row: InvoiceRow, _: unknown, ctx: SubscriptionContext) =>
    ctx.loaders.subscriptionById.load(row.subscription_id),
};
