import { sql } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { scoped, type AmendmentStatus } from './tables.ts';

/** The statuses an amendment waits in; COMPLETED is final and not counted (it only grows). */
export const OPEN_AMENDMENT_STATUSES = ['ACCEPTED', 'INVOICED', 'POSTED', 'EXCEPTION'] as const;

export interface OpenAmendmentsRow {
  status: AmendmentStatus;
  count: number;
  oldestAgeSeconds: number;
}

/** Amendments not yet COMPLETED per status, with the age of the oldest (the `amendment_open` index only). */
export async function openAmendmentsByStatus(db: AnyDb): Promise<OpenAmendmentsRow[]> {
  const rows = await scoped(db)
    .selectFrom('amendment')
    .select([
      'status',
      sql<string>`count(*)`.as('count'),
      sql<string>`extract(epoch from now() - min(created_at))`.as('oldest_age'),
    ])
    .where('status', '<>', 'COMPLETED' satisfies AmendmentStatus)
    .groupBy('status')
    .execute();
  return rows.map((row) => ({
    status: row.status,
    count: Number(row.count),
    oldestAgeSeconds: Math.max(0, Number(row.oldest_age)),
  }));
}
