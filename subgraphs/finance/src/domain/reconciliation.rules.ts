import { parseMonth } from '@c2c/platform/core';
import type { Bucket } from '../data/reconciliation.repository.ts';
import type { DocumentKind } from '../data/tables.ts';

export function bucket(args: {
  currency: string;
  businessUnit: string;
  month: string;
  kind: DocumentKind;
}): Bucket {
  const { start, end } = parseMonth(args.month);
  return { currency: args.currency, businessUnit: args.businessUnit, kind: args.kind, start, end };
}
