import type { OrderResolvers } from '../generated/resolvers.ts';

export const Order: OrderResolvers = {
  __resolveReference: (ref, ctx) => ctx.loadOrder(ref.id),
  correlationId: (row) => row.correlation_id,
  checks: (row, _, ctx) => ctx.loaders.checksByOrderId.load(row.id),
  steps: (row, _, ctx) => ctx.loaders.stepsByOrderId.load(row.id),
  opportunity: async (row, _, ctx) => {
    const opportunity = await ctx.loaders.opportunityById.load(row.opportunity_id);
    if (!opportunity) throw new Error(`order ${row.id} names an unknown opportunity`);
    return opportunity;
  },
  subscription: (row) => (row.subscription_id ? { id: row.subscription_id } : null),
  createdAt: (row) => row.created_at,
  updatedAt: (row) => row.updated_at,
};
