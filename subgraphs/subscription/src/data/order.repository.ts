import type { AnyDb } from '@c2c/platform/db';
import { scoped } from './tables.ts';

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

export async function insertOrderSubscription(
  db: AnyDb,
  row: { order_id: string; opportunity_id: string; subscription_id: string },
): Promise<void> {
  await scoped(db).insertInto('order_subscription').values(row).execute();
}

/** Active subscriptions of one customer to one plan (the ELIGIBILITY check). */
export async function countActiveSubscriptions(
  db: AnyDb,
  customerId: string,
  planCode: string,
): Promise<number> {
  const row = await scoped(db)
    .selectFrom('subscription')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('customer_id', '=', customerId)
    .where('plan_code', '=', planCode)
    .where('status', '=', 'ACTIVE')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
