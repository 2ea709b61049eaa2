import { decodeCursor, encodeCursor, pageSize } from '@c2c/platform/core';
import type { FinanceContext } from '../context.ts';
import {
  countBucketDocuments,
  erpControlTotals,
  findBucketDocuments,
} from '../data/reconciliation.repository.ts';
import type { DocumentKind } from '../data/tables.ts';
import { bucket, issueRange } from '../domain/reconciliation.rules.ts';

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
    erpControlTotals(ctx.db, issueRange(args.from, args.to)),
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
    const rows = await findBucketDocuments(ctx.db, b, after, first + 1);
    const nodes = rows.slice(0, first);
    const last = nodes.at(-1);
    return {
      totalCount: () => countBucketDocuments(ctx.db, b),
      nodes,
      pageInfo: {
        hasNextPage: rows.length > first,
        endCursor: last ? encodeCursor({ issuedOn: last.issued_on, id: last.invoice_id }) : null,
      },
    };
  },
};
