import type { ContractChangeResolvers } from '../generated/resolvers.ts';

export const ContractChange: ContractChangeResolvers = {
  __resolveReference: (ref, ctx) => ctx.loadContractChange(ref.id),
  customer: async (row, _, ctx) => {
    const customer = await ctx.loaders.customerById.load(row.customer_id);
    if (!customer) throw new Error(`contract change ${row.id} names an unknown customer`);
    return customer;
  },
  subscription: (row) => ({ id: row.subscription_id }),
  effectiveDate: (row) => row.effective_date,
  amendment: (row) => (row.amendment_id ? { id: row.amendment_id } : null),
  refusalCode: (row) => row.refusal_code,
  refusalMessage: (row) => row.refusal_message,
  correlationId: (row) => row.correlation_id,
  createdAt: (row) => row.created_at,
};
