import { connectionOf, decodeCursor, pageSize } from '@c2c/platform/core';
import { isCustomerId } from '../domain/customer.rules.ts';
import type { QueryResolvers } from '../generated/resolvers.ts';

/** Reconciliation pages may be larger than the usual 100: a client pages the whole book. */
const RECONCILIATION_PAGE = 1000;

const isPosition = (value: unknown): value is { id: string } => {
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'string' && isCustomerId(id);
};

/** Query fields of reconciliation; the CRM reports its own contract values and won opportunities only. */
export const ReconciliationQueries: QueryResolvers = {
  crmContractValues: async (_, args, ctx) => {
    const first = pageSize(args.first, 500, 'first', RECONCILIATION_PAGE);
    const after = decodeCursor(args.after, isPosition);
    const rows = await ctx.contracts.page(after?.id ?? null, first + 1);
    const page = connectionOf(
      rows,
      first,
      (row) => ({ id: row.id }),
      () => ctx.contracts.count(),
    );
    for (const row of page.nodes) ctx.loaders.customerById.prime(row.id, row);
    return page;
  },
  crmWonOpportunities: async (_, args, ctx) => {
    const first = pageSize(args.first, 500, 'first', RECONCILIATION_PAGE);
    const after = decodeCursor(args.after, isPosition);
    const rows = await ctx.opportunities.wonPage(after?.id ?? null, first + 1);
    const page = connectionOf(
      rows,
      first,
      (row) => ({ id: row.id }),
      () => ctx.opportunities.countWon(),
    );
    for (const row of page.nodes) ctx.loaders.opportunityById.prime(row.id, row);
    return page;
  },
};
