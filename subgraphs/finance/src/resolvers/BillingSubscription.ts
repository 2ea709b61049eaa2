import { money } from '@c2c/platform/core';
import { isUuid, normalizeId } from '../domain/ids.ts';
import type { BillingSubscriptionResolvers } from '../generated/resolvers.ts';

export const BillingSubscription: BillingSubscriptionResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  revenueSchedule: async (ref, _, ctx) => {
    if (!isUuid(ref.id)) return [];
    const months = await ctx.loaders.revenueBySubscriptionId.load(normalizeId(ref.id));
    return months.map((m) => ({
      month: m.month,
      revenue: money(m.amountMinor, m.currency),
      recognized: m.recognized,
    }));
  },
};
