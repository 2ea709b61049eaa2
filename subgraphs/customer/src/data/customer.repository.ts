import type { Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { SCHEMA, type CustomerDb, type CustomerTable } from './tables.ts';

export type CustomerRow = Selectable<CustomerTable>;

/** Narrows a connection or transaction to this subgraph's schema. */
export function scoped(db: AnyDb): CustomerDb {
  return db.withSchema(SCHEMA) as unknown as CustomerDb;
}

export async function findCustomersByIds(db: AnyDb, ids: readonly string[]): Promise<CustomerRow[]> {
  if (ids.length === 0) return [];
  return scoped(db).selectFrom('customer').selectAll().where('id', 'in', ids).execute();
}

export async function findChildrenByParentIds(
  db: AnyDb,
  parentIds: readonly string[],
): Promise<CustomerRow[]> {
  if (parentIds.length === 0) return [];
  return scoped(db)
    .selectFrom('customer')
    .selectAll()
    .where('parent_id', 'in', parentIds)
    .orderBy('name')
    .orderBy('id')
    .execute();
}

export async function findCustomerForUpdate(db: AnyDb, id: string): Promise<CustomerRow | undefined> {
  return scoped(db).selectFrom('customer').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** Locks customers, in id order (two transactions locking some of the same never wait in a cycle). */
export async function findCustomersForUpdate(db: AnyDb, ids: readonly string[]): Promise<CustomerRow[]> {
  if (ids.length === 0) return [];
  return scoped(db)
    .selectFrom('customer')
    .selectAll()
    .where('id', 'in', ids)
    .orderBy('id')
    .forUpdate()
    .execute();
}

export interface CustomerPageQuery {
  businessUnit: string | null;
  after: { name: string; id: string } | null;
  limit: number;
}

/** One page ordered by (name, id) and the total count of the filter. */
export async function findCustomerPage(
  db: AnyDb,
  query: CustomerPageQuery,
): Promise<{ rows: CustomerRow[]; totalCount: number }> {
  let page = scoped(db).selectFrom('customer').selectAll();
  let count = scoped(db)
    .selectFrom('customer')
    .select((eb) => eb.fn.countAll<number>().as('n'));
  if (query.businessUnit !== null) {
    page = page.where('business_unit', '=', query.businessUnit);
    count = count.where('business_unit', '=', query.businessUnit);
  }
  if (query.after) {
    const { name, id } = query.after;
    page = page.where((eb) =>
      eb.or([eb('name', '>', name), eb.and([eb('name', '=', name), eb('id', '>', id)])]),
    );
  }
  const [rows, total] = await Promise.all([
    page.orderBy('name').orderBy('id').limit(query.limit).execute(),
    count.executeTakeFirstOrThrow(),
  ]);
  return { rows, totalCount: Number(total.n) };
}

export async function insertCustomer(
  db: AnyDb,
  row: Omit<
    CustomerRow,
    'version' | 'created_at' | 'updated_at' | 'contract_value_minor' | 'contract_currency'
  >,
): Promise<CustomerRow> {
  return scoped(db)
    .insertInto('customer')
    .values({ ...row, contract_value_minor: null, contract_currency: null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The account at `version` + 1, or undefined when it is no longer at `version` (nothing written). */
export async function updateCustomerRow(
  db: AnyDb,
  id: string,
  changes: Partial<
    Pick<CustomerRow, 'name' | 'email' | 'status' | 'business_unit' | 'segment' | 'country' | 'region'>
  >,
  version: number,
): Promise<CustomerRow | undefined> {
  return scoped(db)
    .updateTable('customer')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1), updated_at: new Date() }))
    .where('id', '=', id)
    .where('version', '=', version)
    .returningAll()
    .executeTakeFirst();
}
