import { connectionOf, decodeCursor, isUuid, pageSize } from '@c2c/platform/core';
import type { BillingOrderSubscriptionResolvers, QueryResolvers } from '../generated/resolvers.ts';

/** Reconciliation pages may be larger than the usual 100: a client pages the whole book. */
const RECONCILIATION_PAGE = 1000;

const isPosition = (value: unknown): value is { orderId: string } => {
  const id =
    typeof value === 'object' && value !== null ? (value as { orderId?: unknown }).orderId : undefined;
  return typeof id === 'string' && isUuid(id);
};

/** Query fields of order reconciliation; billing reports the subscriptions its orders opened. */
export const OrderQueries: QueryResolvers = {
  billingOrderSubscriptions: async (_, args, ctx) => {
    const first = pageSize(args.first, 500, 'first', RECONCILIATION_PAGE);
    const after = decodeCursor(args.after, isPosition);
    const rows = await ctx.orders.page(after?.orderId ?? null, first + 1);
    return connectionOf(
      rows,
      first,
      (row) => ({ orderId: row.order_id }),
      () => ctx.orders.count(),
    );
  },
};

export const BillingOrderSubscription: BillingOrderSubscriptionResolvers = {
  orderId: (row) => row.order_id,
  opportunityId: (row) => row.opportunity_id,
  subscription: async (row, _, ctx) => {
    const subscription = await ctx.loadSubscription(row.subscription_id);
    if (!subscription) throw new Error(`order ${row.order_id} names an unknown subscription`);
    return subscription;
  },
  planCode: (row) => row.plan_code,
  startDate: (row) => row.start_date,
};
