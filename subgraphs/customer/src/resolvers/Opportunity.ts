import type { OpportunityResolvers } from '../generated/resolvers.ts';

export const Opportunity: OpportunityResolvers = {
  __resolveReference: (ref, ctx) => ctx.loadOpportunity(ref.id),
  customer: async (row, _, ctx) => {
    const customer = await ctx.loaders.customerById.load(row.customer_id);
    if (!customer) throw new Error(`opportunity ${row.id} names an unknown customer`);
    return customer;
  },
  planCode: (row) => row.plan_code,
  startDate: (row) => row.start_date,
  order: (row, _, ctx) => ctx.loaders.orderByOpportunityId.load(row.id),
  createdAt: (row) => row.created_at,
  updatedAt: (row) => row.updated_at,
};
