import type { Insertable, Selectable } from 'kysely';
import type { AnyDb, Period } from '@c2c/platform';
import { isoDate, scoped, type SubscriptionTable } from './tables.ts';

export type SubscriptionRow = Selectable<SubscriptionTable>;

const toRow = (row: SubscriptionRow): SubscriptionRow => ({
  ...row,
  start_date: isoDate(row.start_date),
  current_period_start: isoDate(row.current_period_start),
  current_period_end: isoDate(row.current_period_end),
});

export async function findSubscriptionsByIds(db: AnyDb, ids: readonly string[]): Promise<SubscriptionRow[]> {
  if (ids.length === 0) return [];
  return (await scoped(db).selectFrom('subscription').selectAll().where('id', 'in', ids).execute()).map(
    toRow,
  );
}

/** Subscriptions of many customers, oldest first. */
export async function findSubscriptionsByCustomerIds(
  db: AnyDb,
  customerIds: readonly string[],
): Promise<SubscriptionRow[]> {
  if (customerIds.length === 0) return [];
  const rows = await scoped(db)
    .selectFrom('subscription')
    .selectAll()
    .where('customer_id', 'in', customerIds)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toRow);
}

export async function findCustomerCurrencies(db: AnyDb, customerId: string): Promise<string[]> {
  const rows = await scoped(db)
    .selectFrom('subscription')
    .select('currency')
    .distinct()
    .where('customer_id', '=', customerId)
    .execute();
  return rows.map((row) => row.currency);
}

export async function insertSubscription(
  db: AnyDb,
  row: Omit<Insertable<SubscriptionTable>, 'version' | 'created_at' | 'updated_at'>,
): Promise<SubscriptionRow> {
  return toRow(
    await scoped(db).insertInto('subscription').values(row).returningAll().executeTakeFirstOrThrow(),
  );
}

/** Active subscriptions whose current period has ended by `asOf`, locked for the billing run. */
export async function findDueSubscriptionsForUpdate(db: AnyDb, asOf: string): Promise<SubscriptionRow[]> {
  const rows = await scoped(db)
    .selectFrom('subscription')
    .selectAll()
    .where('status', '=', 'ACTIVE')
    .where('current_period_end', '<=', asOf)
    .orderBy('created_at')
    .orderBy('id')
    .forUpdate()
    .execute();
  return rows.map(toRow);
}

/** Moves a subscription to period `index`; the version guard fails loudly on a concurrent writer. */
export async function advanceSubscription(
  db: AnyDb,
  current: SubscriptionRow,
  index: number,
  period: Period,
): Promise<SubscriptionRow> {
  const row = await scoped(db)
    .updateTable('subscription')
    .set((eb) => ({
      period_index: index,
      current_period_start: period.start,
      current_period_end: period.end,
      version: eb('version', '+', 1),
      updated_at: new Date(),
    }))
    .where('id', '=', current.id)
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRow(row);
}
