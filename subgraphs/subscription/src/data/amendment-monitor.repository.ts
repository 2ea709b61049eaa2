import { sql } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import type { AmendmentRow } from './amendment.repository.ts';
import { SCHEMA, scoped, type AmendmentStatus } from './tables.ts';

const amendmentTable = sql.table(`${SCHEMA}.amendment`);

/** Amendments newest first (by `seq`), optionally of one status, strictly before `beforeSeq`. */
export async function findAmendmentsNewestFirst(
  db: AnyDb,
  status: AmendmentStatus | null,
  beforeSeq: number | null,
  limit: number,
): Promise<AmendmentRow[]> {
  let query = scoped(db).selectFrom('amendment').selectAll().orderBy('seq', 'desc').limit(limit);
  if (status !== null) query = query.where('status', '=', status);
  if (beforeSeq !== null) query = query.where('seq', '<', beforeSeq);
  const rows = await query.execute();
  return rows.map((row) => ({
    ...row,
    seq: Number(row.seq),
    proration_minor: row.proration_minor === null ? null : Number(row.proration_minor),
  }));
}

export async function countAmendments(db: AnyDb, status: AmendmentStatus | null): Promise<number> {
  let query = scoped(db)
    .selectFrom('amendment')
    .select(sql<string>`count(*)`.as('n'));
  if (status !== null) query = query.where('status', '=', status);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/** Open amendments (not COMPLETED) per status, from the partial index `amendment_open`. */
export async function countOpenAmendments(db: AnyDb): Promise<{ status: AmendmentStatus; count: number }[]> {
  const rows = await scoped(db)
    .selectFrom('amendment')
    .select(['status', sql<string>`count(*)`.as('n')])
    .where('status', '<>', 'COMPLETED')
    .groupBy('status')
    .orderBy('status')
    .execute();
  return rows.map((row) => ({ status: row.status, count: Number(row.n) }));
}

export interface AmendmentActivityRow {
  minute: Date;
  accepted: number;
  completed: number;
  averageLagMs: number | null;
  maxLagMs: number | null;
}

/**
 * Per minute of the last `minutes`: amendments accepted (by `created_at`) and completed (by the
 * time they turned COMPLETED, their last status change) with the milliseconds that took. Minutes
 * without either are left out. Both sides read an index over the window only.
 */
export async function amendmentActivity(db: AnyDb, minutes: number): Promise<AmendmentActivityRow[]> {
  const since = sql`now() - make_interval(mins => ${minutes}::int)`;
  const result = await sql<{
    minute: Date | string;
    accepted: string | null;
    completed: string | null;
    average_lag: string | number | null;
    max_lag: string | number | null;
  }>`
    with accepted as (
      select date_trunc('minute', created_at) as minute, count(*) as n
      from ${amendmentTable} where created_at > ${since} group by 1
    ), completed as (
      select date_trunc('minute', updated_at) as minute, count(*) as n,
        round(avg(extract(epoch from updated_at - created_at)) * 1000) as average_lag,
        round(max(extract(epoch from updated_at - created_at)) * 1000) as max_lag
      from ${amendmentTable} where status = 'COMPLETED' and updated_at > ${since} group by 1
    )
    select coalesce(a.minute, c.minute) as minute, a.n as accepted, c.n as completed, c.average_lag, c.max_lag
    from accepted a full join completed c on c.minute = a.minute
    order by 1`.execute(db);
  const ms = (value: string | number | null) => (value === null ? null : Math.max(0, Number(value)));
  return result.rows.map((row) => ({
    minute: new Date(row.minute),
    accepted: Number(row.accepted ?? 0),
    completed: Number(row.completed ?? 0),
    averageLagMs: ms(row.average_lag),
    maxLagMs: ms(row.max_lag),
  }));
}
