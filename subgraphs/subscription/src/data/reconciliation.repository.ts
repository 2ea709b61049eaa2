import { sql, type Selectable } from 'kysely';
import type { DateRange, IsoDate } from '@c2c/platform/core';
import type { AnyDb } from '@c2c/platform/db';
import type { AmendmentStepRow } from './amendment.repository.ts';
import { scoped, type InvoiceKind, type InvoiceTable, type PostingStatus } from './tables.ts';

// Reconciliation reads. Every aggregate is one SQL statement over the indexes of
// migrations/0003_reconciliation.sql. Ages are measured against the database's now(), the clock
// that stamped created_at, so they are right whatever clock the subgraph was given.

export interface BillingControlTotalRow {
  currency: string;
  businessUnit: string;
  month: string;
  kind: InvoiceKind;
  count: number;
  totalMinor: number;
  inFlightCount: number;
  inFlightTotalMinor: number;
}

const minutesAgo = (minutes: number) => sql<Date>`now() - make_interval(mins => ${minutes}::int)`;
/** Not acknowledged by the ERP and younger than the grace period. */
const inFlight = (minutes: number) =>
  sql<boolean>`(posting_status = 'PENDING' and created_at > ${minutesAgo(minutes)})`;
const issueMonth = sql<string>`to_char(issued_on, 'YYYY-MM')`;

/** Count and sum of totals per (currency, business unit, month of issue, kind), in flight apart. */
export async function billingControlTotals(
  db: AnyDb,
  range: DateRange,
  inFlightMinutes: number,
): Promise<BillingControlTotalRow[]> {
  const flight = inFlight(inFlightMinutes);
  let query = scoped(db)
    .selectFrom('invoice')
    .select([
      'currency',
      'business_unit',
      'kind',
      issueMonth.as('month'),
      sql<string>`count(*)`.as('count'),
      sql<string>`sum(total_minor)`.as('total'),
      sql<string>`count(*) filter (where ${flight})`.as('in_flight_count'),
      sql<string>`coalesce(sum(total_minor) filter (where ${flight}), 0)`.as('in_flight_total'),
    ])
    .groupBy(['currency', 'business_unit', 'kind', issueMonth])
    .orderBy('currency')
    .orderBy('business_unit')
    .orderBy(issueMonth)
    .orderBy('kind');
  if (range.from) query = query.where('issued_on', '>=', range.from);
  if (range.to) query = query.where('issued_on', '<', range.to);
  const rows = await query.execute();
  return rows.map((row) => ({
    currency: row.currency,
    businessUnit: row.business_unit,
    month: row.month,
    kind: row.kind,
    count: Number(row.count),
    totalMinor: Number(row.total),
    inFlightCount: Number(row.in_flight_count),
    inFlightTotalMinor: Number(row.in_flight_total),
  }));
}

export interface Bucket {
  currency: string;
  businessUnit: string;
  kind: InvoiceKind;
  /** The month as [start, end). */
  start: IsoDate;
  end: IsoDate;
}

export type BucketDocumentRow = Pick<
  Selectable<InvoiceTable>,
  'id' | 'number' | 'kind' | 'issued_on' | 'total_minor' | 'currency' | 'posting_status' | 'created_at'
> & { in_flight: boolean };

const inBucket = (db: AnyDb, bucket: Bucket) =>
  scoped(db)
    .selectFrom('invoice')
    .where('currency', '=', bucket.currency)
    .where('business_unit', '=', bucket.businessUnit)
    .where('kind', '=', bucket.kind)
    .where('issued_on', '>=', bucket.start)
    .where('issued_on', '<', bucket.end);

/** One page of a bucket's documents by (issued_on, id), after the keyset position. */
export async function findBucketDocuments(
  db: AnyDb,
  bucket: Bucket,
  inFlightMinutes: number,
  after: { issuedOn: IsoDate; id: string } | null,
  limit: number,
): Promise<BucketDocumentRow[]> {
  let query = inBucket(db, bucket)
    .select([
      'id',
      'number',
      'kind',
      'issued_on',
      'total_minor',
      'currency',
      'posting_status',
      'created_at',
      inFlight(inFlightMinutes).as('in_flight'),
    ])
    .orderBy('issued_on')
    .orderBy('id')
    .limit(limit);
  if (after) {
    query = query.where(({ eb, refTuple, tuple }) =>
      eb(refTuple('issued_on', 'id'), '>', tuple(after.issuedOn, after.id)),
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

export interface ContractValueRow {
  customerId: string;
  currency: string;
  annualValueMinor: number;
}

const activeLines = (db: AnyDb) => scoped(db).selectFrom('subscription').where('status', '=', 'ACTIVE');

/** ARR of active subscriptions per (customer, currency), by customer id, after the keyset position. */
export async function findContractValues(
  db: AnyDb,
  after: { customerId: string; currency: string } | null,
  limit: number,
): Promise<ContractValueRow[]> {
  let query = activeLines(db)
    .select([
      'customer_id',
      'currency',
      sql<string>`sum(seats * unit_price_minor * case billing_period when 'MONTH' then 12 else 1 end)`.as(
        'annual_value',
      ),
    ])
    .groupBy(['customer_id', 'currency'])
    .orderBy('customer_id')
    .orderBy('currency')
    .limit(limit);
  if (after) {
    query = query.where(({ eb, refTuple, tuple }) =>
      eb(refTuple('customer_id', 'currency'), '>', tuple(after.customerId, after.currency)),
    );
  }
  return (await query.execute()).map((row) => ({
    customerId: row.customer_id,
    currency: row.currency,
    annualValueMinor: Number(row.annual_value),
  }));
}

export async function countContractValues(db: AnyDb): Promise<number> {
  const row = await activeLines(db)
    .select(sql<string>`count(distinct (customer_id, currency))`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface StuckAmendmentRow {
  id: string;
  seq: number;
  ageSeconds: number;
  step: AmendmentStepRow | null;
}

const notCompletedSince = (db: AnyDb, olderThanMinutes: number) =>
  scoped(db)
    .selectFrom('amendment as a')
    .where('a.status', '<>', 'COMPLETED')
    .where('a.created_at', '<=', minutesAgo(olderThanMinutes));

/**
 * Amendments not COMPLETED and accepted at least `olderThanMinutes` ago, oldest first, each with
 * the step it waits on (the failed one, else the first pending one in workflow order).
 */
export async function findStuckAmendments(
  db: AnyDb,
  olderThanMinutes: number,
  afterSeq: number | null,
  limit: number,
): Promise<StuckAmendmentRow[]> {
  let query = notCompletedSince(db, olderThanMinutes)
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('amendment_step as st')
          .selectAll('st')
          .whereRef('st.amendment_id', '=', 'a.id')
          .where('st.status', 'in', ['FAILED', 'PENDING'])
          .orderBy(sql`st.status = 'FAILED'`, 'desc')
          .orderBy(sql`case st.system when 'BILLING' then 0 when 'ERP' then 1 else 2 end`)
          .limit(1)
          .as('s'),
      (join) => join.onTrue(),
    )
    .select([
      'a.id',
      'a.seq',
      sql<number>`extract(epoch from now() - a.created_at)::int`.as('age_seconds'),
      's.amendment_id',
      's.system',
      's.status as step_status',
      's.attempts',
      's.last_error',
      's.completed_at',
      's.updated_at',
    ])
    .orderBy('a.seq')
    .limit(limit);
  if (afterSeq !== null) query = query.where('a.seq', '>', afterSeq);
  const rows = await query.execute();
  return rows.map((row) => ({
    id: row.id,
    seq: Number(row.seq),
    ageSeconds: Number(row.age_seconds),
    step:
      row.amendment_id && row.system && row.step_status
        ? {
            amendment_id: row.amendment_id,
            system: row.system,
            status: row.step_status,
            attempts: Number(row.attempts),
            last_error: row.last_error ?? null,
            completed_at: row.completed_at ?? null,
            updated_at: row.updated_at as Date,
          }
        : null,
  }));
}

export async function countStuckAmendments(db: AnyDb, olderThanMinutes: number): Promise<number> {
  const row = await notCompletedSince(db, olderThanMinutes)
    .select(sql<string>`count(*)`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface SyncBacklogRow {
  businessUnit: string;
  pendingCount: number;
  overdueCount: number;
  failedCount: number;
  oldestPendingAgeSeconds: number | null;
  oldestPendingIssuedAt: Date | null;
}

/** Documents the ERP has not acknowledged as posted, per business unit (the partial index only). */
export async function syncBacklog(db: AnyDb, overdueMinutes: number): Promise<SyncBacklogRow[]> {
  const pending = sql`posting_status = 'PENDING'`;
  const rows = await scoped(db)
    .selectFrom('invoice')
    .select([
      'business_unit',
      sql<string>`count(*) filter (where ${pending})`.as('pending'),
      sql<string>`count(*) filter (where ${pending} and created_at <= ${minutesAgo(overdueMinutes)})`.as(
        'overdue',
      ),
      sql<string>`count(*) filter (where posting_status = 'FAILED')`.as('failed'),
      sql<Date | null>`min(created_at) filter (where ${pending})`.as('oldest'),
      sql<number | null>`extract(epoch from now() - min(created_at) filter (where ${pending}))::int`.as(
        'oldest_age',
      ),
    ])
    .where('posting_status', '<>', 'POSTED' satisfies PostingStatus)
    .groupBy('business_unit')
    .orderBy('business_unit')
    .execute();
  return rows.map((row) => ({
    businessUnit: row.business_unit,
    pendingCount: Number(row.pending),
    overdueCount: Number(row.overdue),
    failedCount: Number(row.failed),
    oldestPendingAgeSeconds: row.oldest_age === null ? null : Number(row.oldest_age),
    oldestPendingIssuedAt: row.oldest === null ? null : new Date(row.oldest),
  }));
}
