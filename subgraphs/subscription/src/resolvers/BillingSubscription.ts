import { present } from '@c2c/platform/graphql';
import { connectionOf, decodeCursor, pageSize } from '@c2c/platform/core';
import type { BillingSubscriptionResolvers } from '../generated/resolvers.ts';

const isPosition = (value: unknown): value is { seq: number } =>
  typeof value === 'object' && value !== null && Number.isSafeInteger((value as { seq?: unknown }).seq);

export const BillingSubscription: BillingSubscriptionResolvers = {
  __resolveReference: (ref, ctx) => ctx.loadSubscription(ref.id),
  customer: (row) => ({ __typename: 'Customer', id: row.customer_id }),
  plan: (row, _, ctx) => present(ctx.loaders.planByCode.load(row.plan_code), `plan ${row.plan_code}`),
  startDate: (row) => row.start_date,
  currentPeriod: (row) => ({ start: row.current_period_start, end: row.current_period_end }),
  createdAt: (row) => row.created_at,
  pendingSeats: (row) => row.pending_seats,
  cancelAt: (row) => row.cancel_at,
  cancelledOn: (row) => row.cancelled_on,
  usage: (row, _, ctx) => ctx.usage.usageSummary(row),
  amendments: async (row, _, ctx) => {
    const rows = await ctx.loaders.amendmentsBySubscriptionId.load(row.id);
    for (const amendment of rows) ctx.loaders.amendmentById.prime(amendment.id, amendment);
    return rows;
  },
  invoices: async (row, args, ctx) => {
    const first = pageSize(args.first, 20);
    const after = decodeCursor(args.after, isPosition);
    const page = await ctx.loaders.invoicePage(first + 1, after?.seq ?? null).load(row.id);
    const invoices = connectionOf(page.rows, first, (node) => ({ seq: node.seq }), page.totalCount);
    for (const node of invoices.nodes) ctx.loaders.invoiceById.prime(node.id, node);
    return invoices;
  },
};
