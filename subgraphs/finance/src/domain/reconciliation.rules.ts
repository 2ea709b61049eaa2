import { DomainError, parseMonth, type IsoDate } from '@c2c/platform/core';
import type { Bucket, IssueRange } from '../data/reconciliation.repository.ts';
import type { DocumentKind } from '../data/tables.ts';

export function issueRange(from: IsoDate | null | undefined, to: IsoDate | null | undefined): IssueRange {
  if (from && to && from >= to)
    throw new DomainError('INVALID_RANGE', `from (${from}) must be before to (${to})`, 'from');
  return { from: from ?? null, to: to ?? null };
}

export function bucket(args: {
  currency: string;
  businessUnit: string;
  month: string;
  kind: DocumentKind;
}): Bucket {
  const { start, end } = parseMonth(args.month);
  return { currency: args.currency, businessUnit: args.businessUnit, kind: args.kind, start, end };
}
