import { findAllPlans } from '../data/plan.repository.ts';
import type { SubscriptionContext } from '../context.ts';

export const Query = {
  plans: async (_: unknown, __: unknown, ctx: SubscriptionContext) => {
    const rows = await findAllPlans(ctx.db);
    for (const row of rows) ctx.loaders.planByCode.prime(row.code, row);
    return rows;
  },
  plan: (_: unknown, args: { code: string }, ctx: SubscriptionContext) => ctx.loadPlan(args.code),
  billingSubscription: (_: unknown, args: { id: string }, ctx: SubscriptionContext) =>
    ctx.loadSubscription(args.id),
  invoice: (_: unknown, args: { id: string }, ctx: SubscriptionContext) => ctx.loadInvoice(args.id),
  amendment: (_: unknown, args: { id: string }, ctx: SubscriptionContext) => ctx.loadAmendment(args.id),
};
