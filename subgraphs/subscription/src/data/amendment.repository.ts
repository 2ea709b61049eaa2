import { sql, type Insertable, type Selectable } from 'kysely';
import type { TaxRateRow } from './tax-rate.repository.ts';
import type { AnyDb } from '@c2c/platform/db';
import {
  SCHEMA,
  scoped,
  type AmendmentStatus,
  type AmendmentStepTable,
  type AmendmentTable,
  type StepStatus,
  type WorkflowSystem,
} from './tables.ts';

export type AmendmentRow = Selectable<AmendmentTable>;
export type AmendmentStepRow = Selectable<AmendmentStepTable>;

const toAmendment = (row: AmendmentRow): AmendmentRow => ({
  ...row,
  proration_minor: row.proration_minor === null ? null : Number(row.proration_minor),
});

/** The order the workflow reaches the systems in; steps are listed in it. */
const SYSTEM_ORDER: Record<WorkflowSystem, number> = { BILLING: 0, ERP: 1, CRM: 2 };
const bySystem = (a: AmendmentStepRow, b: AmendmentStepRow) =>
  SYSTEM_ORDER[a.system] - SYSTEM_ORDER[b.system];

export type NewAmendment = Omit<Insertable<AmendmentTable>, 'seq' | 'created_at' | 'updated_at'>;
export type NewAmendmentStep = Omit<Insertable<AmendmentStepTable>, 'updated_at'>;

/**
 * An amendment and its steps, written as given: the row carries its `seq` (drawn with
 * `readAmendmentContext`) and its times, so the inserts return nothing and a caller holding
 * inserts (`holdingInserts`) sends them with its other rows.
 */
export async function insertAmendment(
  db: AnyDb,
  amendment: AmendmentRow,
  steps: Omit<NewAmendmentStep, 'amendment_id'>[],
): Promise<AmendmentRow> {
  await scoped(db).insertInto('amendment').values(amendment).execute();
  await scoped(db)
    .insertInto('amendment_step')
    .values(steps.map((step) => ({ ...step, amendment_id: amendment.id })))
    .execute();
  return toAmendment(amendment);
}

/** Rows per insert (15 columns an amendment, 6 a step): well under PostgreSQL's bind-parameter limit. */
const INSERT_CHUNK = 500;

/**
 * Many amendments and their steps in a few multi-row inserts (the billing run records one per
 * renewed period). Amendments are inserted in the given order, so `seq` follows it.
 */
export async function insertAmendments(
  db: AnyDb,
  amendments: readonly NewAmendment[],
  steps: readonly NewAmendmentStep[],
): Promise<void> {
  for (let i = 0; i < amendments.length; i += INSERT_CHUNK) {
    await scoped(db)
      .insertInto('amendment')
      .values(amendments.slice(i, i + INSERT_CHUNK))
      .execute();
  }
  for (let i = 0; i < steps.length; i += INSERT_CHUNK) {
    await scoped(db)
      .insertInto('amendment_step')
      .values(steps.slice(i, i + INSERT_CHUNK))
      .execute();
  }
}

export async function findAmendmentsByIds(db: AnyDb, ids: readonly string[]): Promise<AmendmentRow[]> {
  if (ids.length === 0) return [];
  return (await scoped(db).selectFrom('amendment').selectAll().where('id', 'in', ids).execute()).map(
    toAmendment,
  );
}

/** Amendments of many subscriptions, newest first. */
export async function findAmendmentsBySubscriptionIds(
  db: AnyDb,
  subscriptionIds: readonly string[],
): Promise<AmendmentRow[]> {
  if (subscriptionIds.length === 0) return [];
  const rows = await scoped(db)
    .selectFrom('amendment')
    .selectAll()
    .where('subscription_id', 'in', subscriptionIds)
    .orderBy('seq', 'desc')
    .execute();
  return rows.map(toAmendment);
}

export async function findStepsByAmendmentIds(
  db: AnyDb,
  amendmentIds: readonly string[],
): Promise<AmendmentStepRow[]> {
  if (amendmentIds.length === 0) return [];
  const rows = await scoped(db)
    .selectFrom('amendment_step')
    .selectAll()
    .where('amendment_id', 'in', amendmentIds)
    .execute();
  return rows.sort(bySystem);
}

/** Locks an amendment so that acknowledgements from different systems update it one at a time. */
export async function findAmendmentForUpdate(
  db: AnyDb,
  where: { id: string } | { invoiceId: string },
): Promise<AmendmentRow | undefined> {
  const query = scoped(db).selectFrom('amendment').selectAll().forUpdate();
  const row = await (
    'id' in where ? query.where('id', '=', where.id) : query.where('invoice_id', '=', where.invoiceId)
  ).executeTakeFirst();
  return row && toAmendment(row);
}

export interface StepUpdate {
  status: StepStatus;
  attempts: number;
  lastError?: string | null;
  completedAt?: Date | null;
}

export async function updateStep(
  db: AnyDb,
  amendmentId: string,
  system: WorkflowSystem,
  update: StepUpdate,
): Promise<void> {
  await scoped(db)
    .updateTable('amendment_step')
    .set({
      status: update.status,
      attempts: update.attempts,
      ...(update.lastError !== undefined ? { last_error: update.lastError } : {}),
      ...(update.completedAt !== undefined ? { completed_at: update.completedAt } : {}),
      updated_at: new Date(),
    })
    .where('amendment_id', '=', amendmentId)
    .where('system', '=', system)
    .execute();
}

export async function setAmendmentStatus(db: AnyDb, id: string, status: AmendmentStatus): Promise<void> {
  await scoped(db)
    .updateTable('amendment')
    .set({ status, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

/**
 * The date of the latest change already effective in a period (amendments and cancellations that
 * took effect inside it, not those scheduled for its end); null when the period has none.
 */
export async function findLastChangeInPeriod(
  db: AnyDb,
  subscriptionId: string,
  period: { start: string; end: string },
): Promise<string | null> {
  const row = await scoped(db)
    .selectFrom('amendment')
    .select(sql<string | null>`max(effective_date)::text`.as('last'))
    .where('subscription_id', '=', subscriptionId)
    .where('scheduled', '=', false)
    .where('kind', 'in', ['SEATS', 'CANCELLATION'])
    .where('effective_date', '>=', period.start)
    .where('effective_date', '<', period.end)
    .executeTakeFirst();
  return row?.last ?? null;
}

/** What an amendment reads of ours once its subscription is locked. */
export interface AmendmentContext {
  /** As `findLastChangeInPeriod`. */
  lastChange: string | null;
  /** Every dated rate of the bill-to country (as `findTaxRates`). */
  rates: TaxRateRow[];
  /** The new amendment's `seq`, drawn now. */
  seq: number;
}

/**
 * The latest change effective in the period, the country's tax rates and the next amendment `seq`,
 * in one statement. Read after the subscription is locked, in a statement of its own: one that took
 * the lock too would read the amendments as they were before it waited for the lock, and miss the
 * change committed by the amendment it waited for.
 */
export async function readAmendmentContext(
  db: AnyDb,
  subscriptionId: string,
  period: { start: string; end: string },
  country: string,
): Promise<AmendmentContext> {
  const { rows } = await sql<{ last: string | null; rates: TaxRateRow[] | string; seq: number }>`
    select
      (select max(a.effective_date)::text from ${sql.id(SCHEMA, 'amendment')} as a
        where a.subscription_id = ${subscriptionId} and not a.scheduled
          and a.kind in ('SEATS', 'CANCELLATION')
          and a.effective_date >= ${period.start} and a.effective_date < ${period.end}) as last,
      (select coalesce(jsonb_agg(r order by r.id), '[]'::jsonb) from ${sql.id(SCHEMA, 'tax_rate')} as r
        where r.country = ${country}) as rates,
      nextval(pg_get_serial_sequence(${`${SCHEMA}.amendment`}, 'seq')) as seq`.execute(db);
  const row = rows[0]!;
  const rates = typeof row.rates === 'string' ? (JSON.parse(row.rates) as TaxRateRow[]) : row.rates;
  return { lastChange: row.last, rates, seq: Number(row.seq) };
}
