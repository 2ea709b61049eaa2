import { connectionOf, dateRange, decodeCursor, pageSize } from '@c2c/platform/core';
import { bucket, minutes } from '../domain/reconciliation.service.ts';
import type { QueryResolvers } from '../generated/resolvers.ts';

/** Reconciliation pages may be larger than the usual 100: a client pages whole buckets and books. */
const RECONCILIATION_PAGE = 1000;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
const isDocumentPosition = (value: unknown): value is { issuedOn: string; id: string } =>
  isObject(value) && typeof value.issuedOn === 'string' && typeof value.id === 'string';
const isValuePosition = (value: unknown): value is { customerId: string; currency: string } =>
  isObject(value) && typeof value.customerId === 'string' && typeof value.currency === 'string';
const isSeqPosition = (value: unknown): value is { seq: number } =>
  isObject(value) && Number.isInteger(value.seq);

/** Query fields of reconciliation; billing reports its own facts only. */
export const ReconciliationQueries: QueryResolvers = {
  billingControlTotals: (_, args, ctx) =>
    ctx.reconciliation.controlTotals(
      dateRange(args.from, args.to),
      minutes(args.inFlightMinutes, 5, 'inFlightMinutes'),
    ),
  billingDocuments: async (_, args, ctx) => {
    const b = bucket(args);
    const grace = minutes(args.inFlightMinutes, 5, 'inFlightMinutes');
    const first = pageSize(args.first, 500, 'first', RECONCILIATION_PAGE);
    const after = decodeCursor(args.after, isDocumentPosition);
    const rows = await ctx.reconciliation.documents(b, grace, after, first + 1);
    return connectionOf(
      rows,
      first,
      (row) => ({ issuedOn: row.issued_on, id: row.id }),
      () => ctx.reconciliation.countDocuments(b),
    );
  },
  billingContractValues: async (_, args, ctx) => {
    const first = pageSize(args.first, 500, 'first', RECONCILIATION_PAGE);
    const after = decodeCursor(args.after, isValuePosition);
    const rows = await ctx.reconciliation.contractValues(after, first + 1);
    return connectionOf(
      rows,
      first,
      (row) => ({ customerId: row.customerId, currency: row.currency }),
      () => ctx.reconciliation.countContractValues(),
    );
  },
  stuckAmendments: async (_, args, ctx) => {
    const olderThan = minutes(args.olderThanMinutes, 5, 'olderThanMinutes');
    const first = pageSize(args.first, 50);
    const after = decodeCursor(args.after, isSeqPosition);
    const rows = await ctx.reconciliation.stuckAmendments(olderThan, after?.seq ?? null, first + 1);
    return connectionOf(
      rows,
      first,
      (row) => ({ seq: row.seq }),
      () => ctx.reconciliation.countStuckAmendments(olderThan),
    );
  },
  billingSyncBacklog: (_, args, ctx) =>
    ctx.reconciliation.syncBacklog(minutes(args.inFlightMinutes, 5, 'inFlightMinutes')),
};
