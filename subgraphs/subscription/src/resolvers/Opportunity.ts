import { money } from '@c2c/platform/core';
import type { OpportunityResolvers } from '../generated/resolvers.ts';

/** Billing contributes only `expectedValue` to the CRM's Opportunity: seats × the plan's unit price. */
export const Opportunity: OpportunityResolvers = {
  __resolveReference: (ref) => ref,
  expectedValue: async (ref, _, ctx) => {
    if (ref.planCode === undefined || ref.seats === undefined) return null;
    const plan = await ctx.loadPlan(ref.planCode);
    return plan ? money(plan.unit_price_minor * ref.seats, plan.currency) : null;
  },
};
