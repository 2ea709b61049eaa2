import { connectionOf, decodeCursor, pageSize } from '@c2c/platform/core';
import type { SubscriptionRow } from '../data/subscription.repository.ts';
import type { SubscriptionContext } from '../context.ts';

const isPosition = (value: unknown): value is { seq: number } =>
  typeof value === 'object' && value !== null && Number.isSafeInteger((value as { seq?: unknown }).seq);

export const BillingSubscription = {
  __resolveReference: (ref: { id: string }, ctx: SubscriptionContext) => ctx.loadSubscription(ref.id),
  customer: (row: SubscriptionRow) => ({ __typename: 'Customer', id: row.customer_id }),
  plan: (row: SubscriptionRow, _: unknown, ctx: SubscriptionContext) =>
    ctx.loaders.planByCode.load(row.plan_code),
  startDate: (row: SubscriptionRow) => row.start_date,
  currentPeriod: (row: SubscriptionRow) => ({ start: row.current_period_start, end: row.current_period_end }),
  createdAt: (row: SubscriptionRow) => row.created_at,
  pendingSeats: (row: SubscriptionRow) => row.pending_seats,
  cancelAt: (row: SubscriptionRow) => row.cancel_at,
  cancelledOn: (row: SubscriptionRow) => row.cancelled_on,
  amendments: async (row: SubscriptionRow, _: unknown, ctx: SubscriptionContext) => {
    const rows = await ctx.loaders.amendmentsBySubscriptionId.load(row.id);
    for (const amendment of rows) ctx.loaders.amendmentById.prime(amendment.id, amendment);
    return rows;
  },
  invoices: async (
    row: SubscriptionRow,
    args: { first?: number | null; after?: string | null },
    ctx: SubscriptionContext,
  ) => {
    const first = pageSize(args.first, 20);
    const after = decodeCursor(args.after, isPosition);
    const page = await ctx.loaders.invoicePage(first + 1, after?.seq ?? null).load(row.id);
    const invoices = connectionOf(page.rows, first, (node) => ({ seq: node.seq }), page.totalCount);
    for (const node of invoices.nodes) ctx.loaders.invoiceById.prime(node.id, node);
    return invoices;
  },
};
