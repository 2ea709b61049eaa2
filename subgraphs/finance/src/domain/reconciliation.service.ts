import type { DateRange } from '@c2c/platform/core';
import { type AnyDb } from '@c2c/platform/db';
import {
  countBucketDocuments,
  erpControlTotals,
  findBucketDocuments,
  receivablesInRange,
  type Bucket,
  type ErpControlTotalRow,
  type ErpDocumentRow,
} from '../data/reconciliation.repository.ts';
import type { LedgerPort } from '../ports/ledger.port.ts';

/**
 * The ERP's own facts for reconciliation: control totals and a bucket's posted documents. The
 * comparison with billing happens in the client (ops/src/reconcile.ts), never here.
 *
 * With an external ledger (Tryton) the facts are what that system really holds: a document counts
 * only if it is posted there, at the total it has there (our receivable rows give only the bucket:
 * business unit, month, kind). With the built-in ledger our tables are the books: one SQL
 * aggregate.
 */
export class ReconciliationService {
  constructor(
    private readonly db: AnyDb,
    private readonly ledger: LedgerPort,
  ) {}

  async controlTotals(range: DateRange): Promise<ErpControlTotalRow[]> {
    if (!this.ledger.external) return erpControlTotals(this.db, range);
    const rows = await receivablesInRange(this.db, range);
    const held = await this.ledger.postedTotals(rows.map((r) => r.invoice_id));
    if (held === null) return erpControlTotals(this.db, range);
    const totals = new Map<string, ErpControlTotalRow>();
    for (const row of rows) {
      const total = held.get(row.invoice_id);
      if (total === undefined) continue;
      const month = row.issued_on.slice(0, 7);
      const key = `${row.currency}|${row.business_unit}|${month}|${row.kind}`;
      const sum = totals.get(key) ?? {
        currency: row.currency,
        businessUnit: row.business_unit,
        month,
        kind: row.kind,
        count: 0,
        totalMinor: 0,
      };
      sum.count += 1;
      sum.totalMinor += total;
      totals.set(key, sum);
    }
    const order = (r: ErpControlTotalRow) => `${r.currency}|${r.businessUnit}|${r.month}|${r.kind}`;
    return [...totals.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  }

  async documents(
    b: Bucket,
    after: { issuedOn: string; id: string } | null,
    limit: number,
  ): Promise<ErpDocumentRow[]> {
    const rows = await findBucketDocuments(this.db, b, after, limit);
    if (!this.ledger.external) return rows;
    const held = await this.ledger.postedTotals(rows.map((r) => r.invoice_id));
    if (held === null) return rows;
    // The ERP's own amount; a document it does not hold is not one it posted.
    return rows.flatMap((row) => {
      const total = held.get(row.invoice_id);
      return total === undefined ? [] : [{ ...row, total_minor: total }];
    });
  }

  async countDocuments(b: Bucket): Promise<number> {
    if (!this.ledger.external) return countBucketDocuments(this.db, b);
    const rows = await findBucketDocuments(this.db, b, null, 1_000_000);
    const held = await this.ledger.postedTotals(rows.map((r) => r.invoice_id));
    return held === null ? rows.length : rows.filter((r) => held.has(r.invoice_id)).length;
  }
}
