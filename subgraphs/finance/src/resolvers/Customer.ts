import { money } from '@c2c/platform/core';
import type { FinanceContext } from '../context.ts';
import { isUuid, normalizeId } from '../domain/ids.ts';

export const Customer = {
  __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
  receivable: async (ref: { id: string }, _: unknown, ctx: FinanceContext) => {
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
