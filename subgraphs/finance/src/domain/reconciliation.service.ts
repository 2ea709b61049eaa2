import type { DateRange } from '@c2c/platform/core';
import { type AnyDb } from '@c2c/platform/db';
import {
  countBucketDocuments,
  erpControlTotals,
  findBucketDocuments,
  type Bucket,
} from '../data/reconciliation.repository.ts';

/**
 * The ERP's own facts for reconciliation: control totals and a bucket's posted documents. The
 * comparison with billing happens in the client (ops/src/reconcile.ts), never here.
 */
export class ReconciliationService {
  constructor(private readonly db: AnyDb) {}

  controlTotals(range: DateRange) {
    return erpControlTotals(this.db, range);
  }

  documents(b: Bucket, after: { issuedOn: string; id: string } | null, limit: number) {
    return findBucketDocuments(this.db, b, after, limit);
  }

  countDocuments(b: Bucket) {
    return countBucketDocuments(this.db, b);
  }
}
