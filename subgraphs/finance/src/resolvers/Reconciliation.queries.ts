import { connectionOf, dateRange, decodeCursor, pageSize } from '@c2c/platform/core';
import { bucket } from '../domain/reconciliation.rules.ts';
import type { QueryResolvers } from '../generated/resolvers.ts';

/** Reconciliation pages may be larger than the usual 100: a client pages whole buckets. */
const RECONCILIATION_PAGE = 1000;

const isPosition = (value: unknown): value is { issuedOn: string; id: string } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { issuedOn?: unknown }).issuedOn === 'string' &&
  typeof (value as { id?: unknown }).id === 'string';

/** Query fields of reconciliation; the ERP reports its own postings only. */
export const ReconciliationQueries: QueryResolvers = {
  erpControlTotals: (_, args, ctx) => ctx.reconciliation.controlTotals(dateRange(args.from, args.to)),
  erpDocuments: async (_, args, ctx) => {
    const b = bucket(args);
    const first = pageSize(args.first, 500, 'first', RECONCILIATION_PAGE);
    const after = decodeCursor(args.after, isPosition);
    const rows = await ctx.reconciliation.documents(b, after, first + 1);
    return connectionOf(
      rows,
      first,
      (row) => ({ issuedOn: row.issued_on, id: row.invoice_id }),
      () => ctx.reconciliation.countDocuments(b),
    );
  },
};
