import { sql, type Insertable, type Selectable } from 'kysely';
import type { AnyDb, AnyTransaction } from '@c2c/platform/db';
import { scoped, type ErpCrosswalkTable } from './tables.ts';

export type CrosswalkRow = Selectable<ErpCrosswalkTable>;

/**
 * Records where our document or payment lives in the ERP; a second write of the same id (or of the
 * same ERP record) keeps the first. True when this call wrote the row.
 */
export async function insertCrosswalk(
  trx: AnyTransaction,
  row: Insertable<ErpCrosswalkTable>,
): Promise<boolean> {
  const written = await scoped(trx)
    .insertInto('erp_crosswalk')
    .values(row)
    .onConflict((oc) => oc.doNothing())
    .returning('our_id')
    .executeTakeFirst();
  return written !== undefined;
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

/** Which of these ERP records of `kind` we already know (their ERP ids). */
export async function knownErpIds(
  db: AnyDb,
  system: string,
  kind: ErpCrosswalkTable['kind'],
  erpIds: readonly string[],
): Promise<Set<string>> {
  if (erpIds.length === 0) return new Set();
  const rows = await scoped(db)
    .selectFrom('erp_crosswalk')
    .select('erp_id')
    .where('system', '=', system)
    .where('kind', '=', kind)
    .where('erp_id', 'in', erpIds)
    .execute();
  return new Set(rows.map((r) => r.erp_id));
}

/**
 * Takes (or renews) the lease to read the ERP's changes for `ttlSeconds`: the cursor's position
 * (null before the first read), or undefined when another replica holds an unexpired lease.
 */
export async function leaseCursor(
  db: AnyDb,
  system: string,
  name: string,
  owner: string,
  ttlSeconds: number,
): Promise<{ position: string | null } | undefined> {
  await scoped(db)
    .insertInto('erp_cursor')
    .values({ system, name, position: null })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return scoped(db)
    .updateTable('erp_cursor')
    .set({ lease_owner: owner, lease_until: sql<Date>`now() + make_interval(secs => ${ttlSeconds})` })
    .where('system', '=', system)
    .where('name', '=', name)
    .where((eb) =>
      eb.or([
        eb('lease_until', 'is', null),
        eb('lease_until', '<', sql<Date>`now()`),
        eb('lease_owner', '=', owner),
      ]),
    )
    .returning('position')
    .executeTakeFirst();
}

/** Gives the lease back (another replica may read at once). */
export async function releaseCursor(db: AnyDb, system: string, name: string, owner: string): Promise<void> {
  await scoped(db)
    .updateTable('erp_cursor')
    .set({ lease_owner: null, lease_until: null })
    .where('system', '=', system)
    .where('name', '=', name)
    .where('lease_owner', '=', owner)
    .execute();
}

/** Moves a change-capture cursor, in the transaction that applied what it read. */
export async function writeCursor(
  trx: AnyTransaction,
  system: string,
  name: string,
  position: string,
): Promise<void> {
  await scoped(trx)
    .updateTable('erp_cursor')
    .set({ position, updated_at: new Date() })
    .where('system', '=', system)
    .where('name', '=', name)
    .execute();
}
