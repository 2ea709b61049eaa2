import { sql, type Insertable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import type { SubscriptionRow } from './subscription.repository.ts';
import {
  SCHEMA,
  scoped,
  type UsageChargeTable,
  type UsageEventTable,
  type UsageRejectedEventTable,
} from './tables.ts';

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

export type UsageRejection = Omit<Insertable<UsageRejectedEventTable>, 'received_at'>;

/**
 * Records refusals of backbone messages; a refusal already recorded (a redelivered message) is
 * left as it was. Returns how many this call recorded.
 */
export async function insertUsageRejections(db: AnyDb, rows: readonly UsageRejection[]): Promise<number> {
  let recorded = 0;
  // 10 parameters a row.
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const inserted = await scoped(db)
      .insertInto('usage_rejected_event')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .onConflict((oc) => oc.columns(['message_key', 'event_index']).doNothing())
      .returning('event_index')
      .execute();
    recorded += inserted.length;
  }
  return recorded;
}

/** Subscriptions named by a batch of events, share-locked so that a billing run waits for the batch. */
export async function findSubscriptionsForUsage(
  db: AnyDb,
  ids: readonly string[],
): Promise<SubscriptionRow[]> {
  if (ids.length === 0) return [];
  // The billing run locks due subscriptions in this order too, so the two never deadlock.
  return scoped(db)
    .selectFrom('subscription')
    .selectAll()
    .where('id', 'in', ids)
    .orderBy('created_at')
    .orderBy('id')
    .forShare()
    .execute();
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

/** Accepted events of one period and metric, summed in the ingesting transaction. */
export interface PeriodAddition {
  subscription_id: string;
  period_start: string;
  period_end: string;
  metric: string;
  quantityMicro: bigint;
  events: number;
  lastEventAt: Date;
}

/**
 * Adds a batch's accepted events to their periods' recorded totals, one statement; rows in key
 * order so that concurrent batches lock them in the same order.
 */
export async function addToPeriods(db: AnyDb, additions: readonly PeriodAddition[]): Promise<void> {
  if (additions.length === 0) return;
  const rows = [...additions].sort(
    (a, b) =>
      a.subscription_id.localeCompare(b.subscription_id) ||
      a.period_start.localeCompare(b.period_start) ||
      a.metric.localeCompare(b.metric),
  );
  await scoped(db)
    .insertInto('usage_period')
    .values(
      rows.map((row) => ({
        subscription_id: row.subscription_id,
        period_start: row.period_start,
        period_end: row.period_end,
        metric: row.metric,
        quantity_micro: row.quantityMicro.toString(),
        event_count: row.events,
        last_event_at: row.lastEventAt,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['subscription_id', 'period_start', 'metric']).doUpdateSet({
        quantity_micro: sql`usage_period.quantity_micro + excluded.quantity_micro`,
        event_count: sql`usage_period.event_count + excluded.event_count`,
        last_event_at: sql`greatest(usage_period.last_event_at, excluded.last_event_at)`,
      }),
    )
    .execute();
}

/** A period and metric of a subscription whose recorded usage is above what was billed. */
export interface UnbilledPeriod {
  period_start: string;
  period_end: string;
  metric: string;
  quantity: string;
  billed_quantity: string;
  billed_amount_minor: number;
  invoiced: boolean;
}

/** A subscription's periods ending on or before `periodEnd` with usage not yet billed. */
export async function findUnbilledPeriods(
  db: AnyDb,
  subscriptionId: string,
  periodEnd: string,
): Promise<UnbilledPeriod[]> {
  return scoped(db)
    .selectFrom('usage_period')
    .select([
      'period_start',
      'period_end',
      'metric',
      sql<string>`quantity_micro::text`.as('quantity'),
      sql<string>`billed_quantity_micro::text`.as('billed_quantity'),
      'billed_amount_minor',
      'invoiced',
    ])
    .where('subscription_id', '=', subscriptionId)
    .where('period_end', '<=', periodEnd)
    .whereRef('quantity_micro', '<>', 'billed_quantity_micro')
    .orderBy('period_start')
    .orderBy('metric')
    .execute();
}

/** Records what invoices have billed of a period's usage so far (the whole recorded quantity). */
export async function markPeriodBilled(
  db: AnyDb,
  subscriptionId: string,
  period: UnbilledPeriod,
  amountMinor: number,
): Promise<void> {
  await scoped(db)
    .updateTable('usage_period')
    .set({ billed_quantity_micro: period.quantity, billed_amount_minor: amountMinor, invoiced: true })
    .where('subscription_id', '=', subscriptionId)
    .where('period_start', '=', period.period_start)
    .where('metric', '=', period.metric)
    .execute();
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
    .selectFrom('usage_period')
    .select(['metric', sql<string>`quantity_micro::text`.as('quantity'), 'last_event_at'])
    .where('subscription_id', '=', subscriptionId)
    .where('period_start', '=', periodStart)
    .execute();
}

/** The end of the oldest period with unbilled usage, or null when every event is billed. */
export async function oldestUnbilledPeriodEnd(db: AnyDb): Promise<string | null> {
  const row = await scoped(db)
    .selectFrom('usage_period')
    .select(sql<string | null>`min(period_end)`.as('end'))
    .whereRef('quantity_micro', '<>', 'billed_quantity_micro')
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
      select e.subscription_id, e.period_start, e.period_end, e.metric,
             sum(e.quantity_micro) as recorded,
             max(p.quantity_micro - p.billed_quantity_micro) as unbilled
      from ${sql.table(`${SCHEMA}.usage_event`)} e
      left join ${sql.table(`${SCHEMA}.usage_period`)} p using (subscription_id, period_start, metric)
      where e.period_start >= ${range.from} and e.period_start < ${range.to}
      group by e.subscription_id, e.period_start, e.period_end, e.metric
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
