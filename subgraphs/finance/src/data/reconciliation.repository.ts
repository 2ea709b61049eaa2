import { sql, type Selectable } from 'kysely';
import type { DateRange, IsoDate } from '@c2c/platform/core';
import type { AnyDb } from '@c2c/platform/db';
import { scoped, type DocumentKind, type ReceivableTable } from './tables.ts';

// Reconciliation reads over the receivables: a receivable row is written in the same transaction
// as the document's journal entry, so every row is a document the ERP posted. Each aggregate is
// one SQL statement over migrations/0002_reconciliation.sql's index.

export interface ErpControlTotalRow {
  currency: string;
  businessUnit: string;
  month: string;
  kind: DocumentKind;
  count: number;
  totalMinor: number;
}

const issueMonth = sql<string>`to_char(issued_on, 'YYYY-MM')`;

/** Count and sum of posted totals per (currency, business unit, month of issue, kind). */
export async function erpControlTotals(db: AnyDb, range: DateRange): Promise<ErpControlTotalRow[]> {
  let query = scoped(db)
    .selectFrom('receivable')
    .select([
      'currency',
      'business_unit',
      'kind',
      issueMonth.as('month'),
      sql<string>`count(*)`.as('count'),
      sql<string>`sum(total_minor)`.as('total'),
    ])
    .groupBy(['currency', 'business_unit', 'kind', issueMonth])
    .orderBy('currency')
    .orderBy('business_unit')
    .orderBy(issueMonth)
    .orderBy('kind');
  if (range.from) query = query.where('issued_on', '>=', range.from);
  if (range.to) query = query.where('issued_on', '<', range.to);
  return (await query.execute()).map((row) => ({
    currency: row.currency,
    businessUnit: row.business_unit,
    month: row.month,
    kind: row.kind,
    count: Number(row.count),
    totalMinor: Number(row.total),
  }));
}

export interface Bucket {
  currency: string;
  businessUnit: string;
  kind: DocumentKind;
  /** The month as [start, end). */
  start: IsoDate;
  end: IsoDate;
}

export type ErpDocumentRow = Pick<
  Selectable<ReceivableTable>,
  'invoice_id' | 'number' | 'kind' | 'issued_on' | 'total_minor' | 'currency' | 'posted_at'
>;

const inBucket = (db: AnyDb, bucket: Bucket) =>
  scoped(db)
    .selectFrom('receivable')
    .where('currency', '=', bucket.currency)
    .where('business_unit', '=', bucket.businessUnit)
    .where('kind', '=', bucket.kind)
    .where('issued_on', '>=', bucket.start)
    .where('issued_on', '<', bucket.end);

/** One page of a bucket's posted documents by (issued_on, invoice_id), after the keyset position. */
export async function findBucketDocuments(
  db: AnyDb,
  bucket: Bucket,
  after: { issuedOn: IsoDate; id: string } | null,
  limit: number,
): Promise<ErpDocumentRow[]> {
  let query = inBucket(db, bucket)
    .select(['invoice_id', 'number', 'kind', 'issued_on', 'total_minor', 'currency', 'posted_at'])
    .orderBy('issued_on')
    .orderBy('invoice_id')
    .limit(limit);
  if (after) {
    query = query.where(({ eb, refTuple, tuple }) =>
      eb(refTuple('issued_on', 'invoice_id'), '>', tuple(after.issuedOn, after.id)),
    );
  }
  return (await query.execute()).map((row) => ({
    ...row,
    issued_on: row.issued_on,
    total_minor: Number(row.total_minor),
  }));
}

export async function countBucketDocuments(db: AnyDb, bucket: Bucket): Promise<number> {
  const row = await inBucket(db, bucket)
    .select(sql<string>`count(*)`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export type ReceivableBucketRow = Pick<
  Selectable<ReceivableTable>,
  'invoice_id' | 'currency' | 'business_unit' | 'kind' | 'issued_on'
>;

/** The receivables issued in `range` with what places them in a bucket (for an external ledger, whose totals come from the ledger itself). */
export async function receivablesInRange(db: AnyDb, range: DateRange): Promise<ReceivableBucketRow[]> {
  let query = scoped(db)
    .selectFrom('receivable')
    .select(['invoice_id', 'currency', 'business_unit', 'kind', 'issued_on']);
  if (range.from) query = query.where('issued_on', '>=', range.from);
  if (range.to) query = query.where('issued_on', '<', range.to);
  return query.execute();
}
