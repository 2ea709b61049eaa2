import { connectionOf, dateRange, decodeCursor, pageSize } from '@c2c/platform/core';
import type { FinanceContext } from '../context.ts';
import type { DocumentKind } from '../data/tables.ts';
import { bucket } from '../domain/reconciliation.rules.ts';

/** Reconciliation pages may be larger than the usual 100: a client pages whole buckets. */
const RECONCILIATION_PAGE = 1000;

const isPosition = (value: unknown): value is { issuedOn: string; id: string } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { issuedOn?: unknown }).issuedOn === 'string' &&
  typeof (value as { id?: unknown }).id === 'string';

/** Query fields of reconciliation; the ERP reports its own postings only. */
export const ReconciliationQueries = {
  erpControlTotals: (_: unknown, args: { from?: string | null; to?: string | null }, ctx: FinanceContext) =>
    ctx.reconciliation.controlTotals(dateRange(args.from, args.to)),
  erpDocuments: async (
    _: unknown,
    args: {
      currency: string;
      businessUnit: string;
      month: string;
      kind: DocumentKind;
      first?: number | null;
      after?: string | null;
    },
    ctx: FinanceContext,
  ) => {
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
