import type { Insertable, Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { scoped, type PlanTable } from './tables.ts';

export type PlanRow = Selectable<PlanTable>;

export async function findPlansByCodes(db: AnyDb, codes: readonly string[]): Promise<PlanRow[]> {
  if (codes.length === 0) return [];
  return scoped(db).selectFrom('plan').selectAll().where('code', 'in', codes).execute();
}

export async function findAllPlans(db: AnyDb): Promise<PlanRow[]> {
  return scoped(db).selectFrom('plan').selectAll().orderBy('code').execute();
}

/** Inserts a plan; undefined when the code is already taken. */
export async function insertPlan(db: AnyDb, row: Insertable<PlanTable>): Promise<PlanRow | undefined> {
  return scoped(db)
    .insertInto('plan')
    .values(row)
    .onConflict((oc) => oc.column('code').doNothing())
    .returningAll()
    .executeTakeFirst();
}
