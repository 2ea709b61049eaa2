import { DomainError, parseMonth, type DateRange } from '@c2c/platform/core';
import { type AnyDb } from '@c2c/platform/db';
import {
  billingControlTotals,
  countBucketDocuments,
  countContractValues,
  countStuckAmendments,
  findBucketDocuments,
  findContractValues,
  findStuckAmendments,
  syncBacklog,
  type Bucket,
} from '../data/reconciliation.repository.ts';
import type { InvoiceKind } from '../data/tables.ts';

/** Grace periods and ages are whole minutes up to a week. */
export const MAX_MINUTES = 10_080;

export function minutes(value: number | null | undefined, fallback: number, field: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 0 || n > MAX_MINUTES)
    throw new DomainError(
      'INVALID_MINUTES',
      `${field} must be between 0 and ${MAX_MINUTES}, got ${n}`,
      field,
    );
  return n;
}

export function bucket(args: {
  currency: string;
  businessUnit: string;
  month: string;
  kind: InvoiceKind;
}): Bucket {
  const { start, end } = parseMonth(args.month);
  return { currency: args.currency, businessUnit: args.businessUnit, kind: args.kind, start, end };
}

/**
 * Billing's own facts for reconciliation: control totals, a bucket's documents, contract values,
 * stuck amendments and the sync backlog. The comparison with the ERP and the CRM happens in the
 * client (ops/src/reconcile.ts), never here: billing does not read their data.
 */
export class ReconciliationService {
  constructor(private readonly db: AnyDb) {}

  controlTotals(range: DateRange, inFlightMinutes: number) {
    return billingControlTotals(this.db, range, inFlightMinutes);
  }

  documents(
    b: Bucket,
    inFlightMinutes: number,
    after: { issuedOn: string; id: string } | null,
    limit: number,
  ) {
    return findBucketDocuments(this.db, b, inFlightMinutes, after, limit);
  }

  countDocuments(b: Bucket) {
    return countBucketDocuments(this.db, b);
  }

  contractValues(after: { customerId: string; currency: string } | null, limit: number) {
    return findContractValues(this.db, after, limit);
  }

  countContractValues() {
    return countContractValues(this.db);
  }

  stuckAmendments(olderThanMinutes: number, afterSeq: number | null, limit: number) {
    return findStuckAmendments(this.db, olderThanMinutes, afterSeq, limit);
  }

  countStuckAmendments(olderThanMinutes: number) {
    return countStuckAmendments(this.db, olderThanMinutes);
  }

  syncBacklog(overdueMinutes: number) {
    return syncBacklog(this.db, overdueMinutes);
  }
}
