import { sql, type Insertable, type Selectable } from 'kysely';
import type { TaxRateRow } from './tax-rate.repository.ts';
import type { AnyDb } from '@c2c/platform/db';
import {
  SCHEMA,
  scoped,
  type AmendmentStatus,
  type AmendmentStepTable,
  type AmendmentTable,
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

/**
 * Locks the amendments with these ids or documents, in id order (two transactions locking some of
 * the same amendments never wait on each other in a cycle), so that acknowledgements from different
 * systems update an amendment one at a time. One statement for any number.
 */
export async function lockAmendments(
  db: AnyDb,
  where: { ids: readonly string[]; invoiceIds: readonly string[] },
): Promise<AmendmentRow[]> {
  if (where.ids.length === 0 && where.invoiceIds.length === 0) return [];
  const rows = await scoped(db)
    .selectFrom('amendment')
    .selectAll()
    .where((eb) =>
      eb.or([
        ...(where.ids.length > 0 ? [eb('id', 'in', where.ids)] : []),
        ...(where.invoiceIds.length > 0 ? [eb('invoice_id', 'in', where.invoiceIds)] : []),
      ]),
    )
    .orderBy('id')
    .forUpdate()
    .execute();
  return rows.map(toAmendment);
}

/** A step as it is to be written: its whole state. */
export type StepWrite = Pick<
  AmendmentStepRow,
  'amendment_id' | 'system' | 'status' | 'attempts' | 'last_error' | 'completed_at'
>;

/**
 * Writes steps (their whole state) and amendments' statuses, any number of each, in one statement:
 * two multi-row updates as data-modifying CTEs.
 */
export async function saveSteps(
  db: AnyDb,
  steps: readonly StepWrite[],
  statuses: readonly { id: string; status: AmendmentStatus }[],
): Promise<void> {
  if (steps.length === 0 && statuses.length === 0) return;
  const parts = [];
  if (steps.length > 0)
    parts.push(sql`updated_steps as (
      update ${sql.table(`${SCHEMA}.amendment_step`)} as s
      set status = v.status, attempts = v.attempts, last_error = v.last_error,
          completed_at = v.completed_at, updated_at = now()
      from (values ${sql.join(
        steps.map(
          (step) =>
            sql`(${step.amendment_id}::uuid, ${step.system}::text, ${step.status}::text, ${step.attempts}::integer, ${step.last_error}::text, ${step.completed_at}::timestamptz)`,
        ),
      )}) as v (amendment_id, system, status, attempts, last_error, completed_at)
      where s.amendment_id = v.amendment_id and s.system = v.system
      returning 1)`);
  if (statuses.length > 0)
    parts.push(sql`updated_statuses as (
      update ${sql.table(`${SCHEMA}.amendment`)} as a
      set status = v.status, updated_at = now()
      from (values ${sql.join(statuses.map(({ id, status }) => sql`(${id}::uuid, ${status}::text)`))})
        as v (id, status)
      where a.id = v.id
      returning 1)`);
  await sql`with ${sql.join(parts)} select 1`.execute(db);
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
