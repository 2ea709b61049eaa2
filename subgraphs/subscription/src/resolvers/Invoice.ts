import { present } from '@c2c/platform/graphql';
import { money } from '@c2c/platform/core';
import type { InvoiceResolvers } from '../generated/resolvers.ts';

export const Invoice: InvoiceResolvers = {
  __resolveReference: (ref, ctx) => ctx.loadInvoice(ref.id),
  issuedOn: (row) => row.issued_on,
  dueOn: (row) => row.due_on,
  subtotal: (row) => money(row.subtotal_minor, row.currency),
  tax: (row) => money(row.tax_minor, row.currency),
  total: (row) => money(row.total_minor, row.currency),
  taxRateMissing: (row) => row.tax_rate_missing,
  // Lines carry no currency of their own: they are in the invoice's.
  lines: async (row, _, ctx) =>
    (await ctx.loaders.linesByInvoiceId.load(row.id)).map((line) => ({ ...line, currency: row.currency })),
  customer: (row) => ({ __typename: 'Customer', id: row.customer_id }),
  subscription: (row, _, ctx) =>
    present(ctx.loaders.subscriptionById.load(row.subscription_id), `subscription ${row.subscription_id}`),
};
