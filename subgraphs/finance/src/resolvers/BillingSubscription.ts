import { money } from '@c2c/platform/core';
import type { FinanceContext } from '../context.ts';
import { isUuid, normalizeId } from '../domain/ids.ts';

export const BillingSubscription = {
  __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
  revenueSchedule: async (ref: { id: string }, _: unknown, ctx: FinanceContext) => {
    if (!isUuid(ref.id)) return [];
    const months = await ctx.loaders.revenueBySubscriptionId.load(normalizeId(ref.id));
    return months.map((m) => ({
      month: m.month,
      revenue: money(m.amountMinor, m.currency),
      recognized: m.recognized,
    }));
  },
};
