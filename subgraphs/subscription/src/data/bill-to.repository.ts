import type { Insertable, Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { scoped, type BillToAccountTable } from './tables.ts';

export type BillToRow = Selectable<BillToAccountTable>;

/** Locks the account so that one customer's subscriptions are created one at a time (currency rule). */
export async function findBillToForUpdate(db: AnyDb, id: string): Promise<BillToRow | undefined> {
  return scoped(db)
    .selectFrom('bill_to_account')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export async function findBillToByIds(db: AnyDb, ids: readonly string[]): Promise<BillToRow[]> {
  if (ids.length === 0) return [];
  return scoped(db).selectFrom('bill_to_account').selectAll().where('id', 'in', ids).execute();
}

/** Upserts the replica unless it already holds this or a newer version; true when written. */
export async function upsertBillTo(
  db: AnyDb,
  row: Omit<Insertable<BillToAccountTable>, 'updated_at'>,
): Promise<boolean> {
  const { id: _id, ...changes } = row;
  const written = await scoped(db)
    .insertInto('bill_to_account')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ ...changes, updated_at: new Date() })
        .where('bill_to_account.version', '<', row.version),
    )
    .returning('id')
    .executeTakeFirst();
  return written !== undefined;
}
