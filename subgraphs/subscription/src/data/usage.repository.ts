import { sql, type Insertable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import type { SubscriptionRow } from './subscription.repository.ts';
import { SCHEMA, scoped, type UsageChargeTable, type UsageEventTable } from './tables.ts';

export type NewUsageEvent = Omit<Insertable<UsageEventTable>, 'received_at'>;

/** Rows per insert: 10 parameters a row, well under PostgreSQL's bind-parameter limit. */
const INSERT_CHUNK = 1000;

/**
 * Stores events whose id is new; an id already stored is left as it was (it counts once, whenever
 * it arrives). Returns the ids this call stored.
 */
export async function insertUsageEvents(db: AnyDb, rows: readonly NewUsageEvent[]): Promise<Set<string>> {
  const stored = new Set<string>();
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const inserted = await scoped(db)
      .insertInto('usage_event')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    for (const row of inserted) stored.add(row.id);
  }
  return stored;
}

/** Subscriptions named by a batch of events, share-locked so that a billing run waits for the batch. */
export async function findSubscriptionsForUsage(
  db: AnyDb,
  ids: readonly string[],
): Promise<SubscriptionRow[]> {
  if (ids.length === 0) return [];
  return scoped(db).selectFrom('subscription').selectAll().where('id', 'in', ids).forShare().execute();
}

/** Periods (by start) of these subscriptions whose usage has been invoiced at least once. */
export async function findChargedPeriods(
  db: AnyDb,
  subscriptionIds: readonly string[],
): Promise<{ subscription_id: string; period_start: string }[]> {
  if (subscriptionIds.length === 0) return [];
  return scoped(db)
    .selectFrom('usage_charge')
    .select(['subscription_id', 'period_start'])
    .distinct()
    .where('subscription_id', 'in', subscriptionIds)
    .execute();
}

/**
 * Marks every unbilled event of a subscription in periods ending on or before `periodEnd` as billed
 * on `invoiceId` (inserted later in the same transaction: the foreign key is deferred), and returns
 * the periods and metrics they belong to. Only the rows marked here are rated, so an event stored
 * concurrently is never marked without being counted.
 */
export async function claimUnbilledUsage(
  db: AnyDb,
  subscriptionId: string,
  periodEnd: string,
  invoiceId: string,
): Promise<{ period_start: string; period_end: string; metric: string }[]> {
  const rows = await scoped(db)
    .updateTable('usage_event')
    .set({ invoice_id: invoiceId })
    .where('subscription_id', '=', subscriptionId)
    .where('invoice_id', 'is', null)
    .where('period_end', '<=', periodEnd)
    .returning(['period_start', 'period_end', 'metric'])
    .execute();
  const unique = new Map<string, { period_start: string; period_end: string; metric: string }>();
  for (const row of rows) unique.set(`${row.period_start}|${row.metric}`, row);
  return [...unique.values()].sort(
    (a, b) => a.period_start.localeCompare(b.period_start) || a.metric.localeCompare(b.metric),
  );
}

/** The billed quantity (all events of the period already assigned to an invoice), exact, as micro-units. */
export async function billedEventQuantity(
  db: AnyDb,
  subscriptionId: string,
  periodStart: string,
  metric: string,
): Promise<bigint> {
  const row = await scoped(db)
    .selectFrom('usage_event')
    .select(sql<string>`coalesce(sum(quantity_micro), 0)::text`.as('total'))
    .where('subscription_id', '=', subscriptionId)
    .where('period_start', '=', periodStart)
    .where('metric', '=', metric)
    .where('invoice_id', 'is not', null)
    .executeTakeFirstOrThrow();
  return BigInt(row.total);
}

/** What invoices billed so far of one period's usage of one metric. */
export async function chargedSoFar(
  db: AnyDb,
  subscriptionId: string,
  periodStart: string,
  metric: string,
): Promise<{ charges: number; quantityMicro: bigint; amountMinor: number }> {
  const row = await scoped(db)
    .selectFrom('usage_charge')
    .select([
      sql<string>`count(*)::text`.as('charges'),
      sql<string>`coalesce(sum(quantity_micro), 0)::text`.as('quantity'),
      sql<string>`coalesce(sum(amount_minor), 0)::text`.as('amount'),
    ])
    .where('subscription_id', '=', subscriptionId)
    .where('period_start', '=', periodStart)
    .where('metric', '=', metric)
    .executeTakeFirstOrThrow();
  return {
    charges: Number(row.charges),
    quantityMicro: BigInt(row.quantity),
    amountMinor: Number(row.amount),
  };
}

export async function insertUsageCharges(
  db: AnyDb,
  rows: readonly Insertable<UsageChargeTable>[],
): Promise<void> {
  if (rows.length === 0) return;
  await scoped(db)
    .insertInto('usage_charge')
    .values([...rows])
    .execute();
}

export interface PeriodUsageRow {
  metric: string;
  quantity: string;
  last_event_at: Date | null;
}

/** A subscription's recorded usage in one period, per metric (everything stored, billed or not). */
export async function periodUsage(
  db: AnyDb,
  subscriptionId: string,
  periodStart: string,
): Promise<PeriodUsageRow[]> {
  return scoped(db)
    .selectFrom('usage_event')
    .select([
      'metric',
      sql<string>`sum(quantity_micro)::text`.as('quantity'),
      sql<Date | null>`max(occurred_at)`.as('last_event_at'),
    ])
    .where('subscription_id', '=', subscriptionId)
    .where('period_start', '=', periodStart)
    .groupBy('metric')
    .execute();
}

/** The end of the oldest period with unbilled usage, or null when every event is billed. */
export async function oldestUnbilledPeriodEnd(db: AnyDb): Promise<string | null> {
  const row = await scoped(db)
    .selectFrom('usage_event')
    .select(sql<string | null>`min(period_end)`.as('end'))
    .where('invoice_id', 'is', null)
    .executeTakeFirst();
  return row?.end ?? null;
}

/** One row of usage reconciliation: recorded vs invoiced per subscription, period and metric. */
export interface UsageReconciliationRow {
  subscription_id: string;
  period_start: string;
  period_end: string;
  metric: string;
  recorded: string;
  invoiced: string;
  unbilled: string;
}

/**
 * Recorded usage (every stored event) against invoiced usage (the charges of all invoices,
 * adjustments included) per subscription, period and metric, for periods starting in [from, to).
 */
export async function usageReconciliation(
  db: AnyDb,
  range: { from: string; to: string; onlyDifferences: boolean },
): Promise<UsageReconciliationRow[]> {
  const result = await sql<UsageReconciliationRow>`
    with recorded as (
      select subscription_id, period_start, period_end, metric,
             sum(quantity_micro) as recorded,
             sum(quantity_micro) filter (where invoice_id is null) as unbilled
      from ${sql.table(`${SCHEMA}.usage_event`)}
      where period_start >= ${range.from} and period_start < ${range.to}
      group by subscription_id, period_start, period_end, metric
    ), invoiced as (
      select subscription_id, period_start, period_end, metric, sum(quantity_micro) as invoiced
      from ${sql.table(`${SCHEMA}.usage_charge`)}
      where period_start >= ${range.from} and period_start < ${range.to}
      group by subscription_id, period_start, period_end, metric
    )
    select coalesce(r.subscription_id, i.subscription_id) as subscription_id,
           coalesce(r.period_start, i.period_start) as period_start,
           coalesce(r.period_end, i.period_end) as period_end,
           coalesce(r.metric, i.metric) as metric,
           coalesce(r.recorded, 0)::text as recorded,
           coalesce(i.invoiced, 0)::text as invoiced,
           coalesce(r.unbilled, 0)::text as unbilled
    from recorded r
    full join invoiced i using (subscription_id, period_start, period_end, metric)
    where not ${range.onlyDifferences} or coalesce(r.recorded, 0) <> coalesce(i.invoiced, 0)
    order by 1, 2, 4`.execute(db);
  return result.rows;
}
