import type { Insertable, Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { scoped } from './customer.repository.ts';
import type { ContractChangeTable } from './tables.ts';

export type ContractChangeRow = Selectable<ContractChangeTable>;

export async function insertContractChange(
  db: AnyDb,
  row: Omit<Insertable<ContractChangeTable>, 'created_at' | 'updated_at'>,
): Promise<ContractChangeRow> {
  return scoped(db).insertInto('contract_change').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findContractChangesByIds(
  db: AnyDb,
  ids: readonly string[],
): Promise<ContractChangeRow[]> {
  if (ids.length === 0) return [];
  return scoped(db).selectFrom('contract_change').selectAll().where('id', 'in', ids).execute();
}

/** Contract changes of many accounts, newest first. */
export async function findContractChangesByCustomerIds(
  db: AnyDb,
  customerIds: readonly string[],
): Promise<ContractChangeRow[]> {
  if (customerIds.length === 0) return [];
  return scoped(db)
    .selectFrom('contract_change')
    .selectAll()
    .where('customer_id', 'in', customerIds)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(50 * customerIds.length)
    .execute();
}

/** Records billing's answer once: a REQUESTED change becomes ACCEPTED or REFUSED. */
export async function answerContractChange(
  db: AnyDb,
  id: string,
  answer: Pick<ContractChangeRow, 'status' | 'amendment_id' | 'refusal_code' | 'refusal_message'>,
): Promise<boolean> {
  const result = await scoped(db)
    .updateTable('contract_change')
    .set({ ...answer, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', '=', 'REQUESTED')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
