import { connectionOf, decodeCursor, money, pageSize } from '@c2c/platform/core';
import { isUuid } from '../domain/ids.ts';
import type { QueryResolvers } from '../generated/resolvers.ts';

const isPosition = (value: unknown): value is { id: string } =>
  typeof value === 'object' && value !== null && isUuid((value as { id?: unknown }).id);

export const Query: QueryResolvers = {
  journalEntries: async (_, args, ctx) => {
    const first = pageSize(args.first, 50);
    const after = decodeCursor(args.after, isPosition);
    const { rows, totalCount } = await ctx.ledger.journalPage(after?.id ?? null, first + 1);
    return connectionOf(rows, first, (row) => ({ id: row.id }), totalCount);
  },
  trialBalance: async (_, __, ctx) =>
    (await ctx.ledger.trialBalance()).map((row) => ({
      account: row.account,
      balance: money(row.balanceMinor, row.currency),
    })),
};
