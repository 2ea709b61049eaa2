import type { AnyDb } from '@c2c/platform/db';
import type { Insertable, Selectable } from 'kysely';
import { scoped, type OrderSubscriptionTable } from './tables.ts';

/** The subscription an order created, if any. */
export async function findOrderSubscription(
  db: AnyDb,
  orderId: string,
): Promise<{ subscription_id: string } | undefined> {
  return scoped(db)
    .selectFrom('order_subscription')
    .select('subscription_id')
    .where('order_id', '=', orderId)
    .executeTakeFirst();
}

export type OrderSubscriptionRow = Selectable<OrderSubscriptionTable>;

export async function insertOrderSubscription(
  db: AnyDb,
  row: Omit<Insertable<OrderSubscriptionTable>, 'created_at'>,
): Promise<void> {
  await scoped(db).insertInto('order_subscription').values(row).execute();
}

/** Reconciliation: the subscriptions orders opened, by order id after the keyset position. */
export async function findOrderSubscriptionPage(
  db: AnyDb,
  afterOrderId: string | null,
  limit: number,
): Promise<OrderSubscriptionRow[]> {
  let query = scoped(db).selectFrom('order_subscription').selectAll().orderBy('order_id').limit(limit);
  if (afterOrderId !== null) query = query.where('order_id', '>', afterOrderId);
  return query.execute();
}

export async function countOrderSubscriptions(db: AnyDb): Promise<number> {
  const row = await scoped(db)
    .selectFrom('order_subscription')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
