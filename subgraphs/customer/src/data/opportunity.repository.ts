import type { Insertable, Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { scoped } from './customer.repository.ts';
import type { OpportunityTable } from './tables.ts';

export type OpportunityRow = Selectable<OpportunityTable>;

export async function findOpportunitiesByIds(db: AnyDb, ids: readonly string[]): Promise<OpportunityRow[]> {
  if (ids.length === 0) return [];
  return scoped(db).selectFrom('opportunity').selectAll().where('id', 'in', ids).execute();
}

/** Open opportunities of many accounts, newest first. */
export async function findOpenOpportunitiesByCustomerIds(
  db: AnyDb,
  customerIds: readonly string[],
): Promise<OpportunityRow[]> {
  if (customerIds.length === 0) return [];
  return scoped(db)
    .selectFrom('opportunity')
    .selectAll()
    .where('customer_id', 'in', customerIds)
    .where('stage', '=', 'OPEN')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function findOpportunityForUpdate(db: AnyDb, id: string): Promise<OpportunityRow | undefined> {
  return scoped(db).selectFrom('opportunity').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function insertOpportunity(
  db: AnyDb,
  row: Omit<Insertable<OpportunityTable>, 'version' | 'created_at' | 'updated_at'>,
): Promise<OpportunityRow> {
  return scoped(db).insertInto('opportunity').values(row).returningAll().executeTakeFirstOrThrow();
}

/** The opportunity at `version` + 1, or undefined when it is no longer at `version` (nothing written). */
export async function updateOpportunityRow(
  db: AnyDb,
  id: string,
  changes: Partial<Pick<OpportunityRow, 'name' | 'plan_code' | 'seats' | 'start_date' | 'stage'>>,
  version: number,
): Promise<OpportunityRow | undefined> {
  return scoped(db)
    .updateTable('opportunity')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1), updated_at: new Date() }))
    .where('id', '=', id)
    .where('version', '=', version)
    .returningAll()
    .executeTakeFirst();
}

/** Reconciliation: every won opportunity with its terms, by id after the keyset position. */
export async function findWonOpportunityPage(
  db: AnyDb,
  afterId: string | null,
  limit: number,
): Promise<OpportunityRow[]> {
  let query = scoped(db)
    .selectFrom('opportunity')
    .selectAll()
    .where('stage', '=', 'WON')
    .orderBy('id')
    .limit(limit);
  if (afterId !== null) query = query.where('id', '>', afterId);
  return query.execute();
}

/** A WON opportunity whose order was rejected turns OPEN again (version + 1); false if it was not WON. */
export async function reopenOpportunity(db: AnyDb, id: string): Promise<boolean> {
  const result = await scoped(db)
    .updateTable('opportunity')
    .set((eb) => ({ stage: 'OPEN' as const, version: eb('version', '+', 1), updated_at: new Date() }))
    .where('id', '=', id)
    .where('stage', '=', 'WON')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function countWonOpportunities(db: AnyDb): Promise<number> {
  const row = await scoped(db)
    .selectFrom('opportunity')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('stage', '=', 'WON')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
