import type { Insertable, Selectable } from 'kysely';
import type { AnyDb, AnyTransaction } from '@c2c/platform/db';
import { scoped, type ErpCrosswalkTable } from './tables.ts';

export type CrosswalkRow = Selectable<ErpCrosswalkTable>;

/** Records where our document or payment lives in the ERP; a second write of the same id keeps the first. */
export async function insertCrosswalk(
  trx: AnyTransaction,
  row: Insertable<ErpCrosswalkTable>,
): Promise<void> {
  await scoped(trx)
    .insertInto('erp_crosswalk')
    .values(row)
    .onConflict((oc) => oc.columns(['system', 'kind', 'our_id']).doNothing())
    .execute();
}

/** The ERP ids of our documents or payments, by our id. */
export async function findCrosswalk(
  db: AnyDb,
  system: string,
  ourIds: readonly string[],
): Promise<CrosswalkRow[]> {
  if (ourIds.length === 0) return [];
  return scoped(db)
    .selectFrom('erp_crosswalk')
    .selectAll()
    .where('system', '=', system)
    .where('our_id', 'in', ourIds)
    .execute();
}
