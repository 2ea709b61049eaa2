import { decodeCursor, encodeCursor, money, pageSize } from '@c2c/platform/core';
import { accountBalances, findJournalPage } from '../data/ledger.repository.ts';
import type { FinanceContext } from '../context.ts';
import { isUuid } from '../domain/ids.ts';

const isPosition = (value: unknown): value is { id: string } =>
  typeof value === 'object' && value !== null && isUuid((value as { id?: unknown }).id);

export const Query = {
  journalEntries: async (
    _: unknown,
    args: { first?: number | null; after?: string | null },
    ctx: FinanceContext,
  ) => {
    const first = pageSize(args.first, 50);
    const after = decodeCursor(args.after, isPosition);
    const { rows, totalCount } = await findJournalPage(ctx.db, {
      afterId: after?.id ?? null,
      limit: first + 1,
    });
    const nodes = rows.slice(0, first);
    const last = nodes.at(-1);
    return {
      totalCount,
      nodes,
      pageInfo: { hasNextPage: rows.length > first, endCursor: last ? encodeCursor({ id: last.id }) : null },
    };
  },
  trialBalance: async (_: unknown, __: unknown, ctx: FinanceContext) =>
    (await accountBalances(ctx.db)).map((row) => ({
      account: row.account,
      balance: money(row.balanceMinor, row.currency),
    })),
};
