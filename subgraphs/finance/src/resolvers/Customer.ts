import { money } from '@c2c/platform/core';
import { isUuid, normalizeId } from '../domain/ids.ts';
import type { CustomerResolvers } from '../generated/resolvers.ts';

export const Customer: CustomerResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  receivable: async (ref, _, ctx) => {
    if (!isUuid(ref.id)) return null;
    const totals = await ctx.loaders.receivableByCustomerId.load(normalizeId(ref.id));
    if (!totals) return null;
    return {
      balance: money(totals.balanceMinor, totals.currency),
      overdue: money(totals.overdueMinor, totals.currency),
      openInvoiceCount: totals.openInvoiceCount,
    };
  },
};
