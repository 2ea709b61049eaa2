import type { Insertable, Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { scoped } from './customer.repository.ts';
import type {
  OrderCheckTable,
  OrderStatus,
  OrderStepStatus,
  OrderStepTable,
  OrderSystem,
  SalesOrderTable,
} from './tables.ts';

export type OrderRow = Selectable<SalesOrderTable>;
export type OrderCheckRow = Selectable<OrderCheckTable>;
export type OrderStepRow = Selectable<OrderStepTable>;

export const ORDER_SYSTEMS: readonly OrderSystem[] = ['BILLING', 'ERP', 'CRM'];
const CHECK_ORDER = ['ACCOUNT_HIERARCHY', 'PRICING', 'TAX_CONTEXT', 'ELIGIBILITY'];

export async function findOrdersByIds(db: AnyDb, ids: readonly string[]): Promise<OrderRow[]> {
  if (ids.length === 0) return [];
  return scoped(db).selectFrom('sales_order').selectAll().where('id', 'in', ids).execute();
}

/** The orders of many opportunities, oldest first (the last one is an opportunity's latest). */
export async function findOrdersByOpportunityIds(db: AnyDb, ids: readonly string[]): Promise<OrderRow[]> {
  if (ids.length === 0) return [];
  return scoped(db)
    .selectFrom('sales_order')
    .selectAll()
    .where('opportunity_id', 'in', ids)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** The opportunity's order that is not rejected (at most one), if any. */
export async function findLiveOrder(db: AnyDb, opportunityId: string): Promise<OrderRow | undefined> {
  return scoped(db)
    .selectFrom('sales_order')
    .selectAll()
    .where('opportunity_id', '=', opportunityId)
    .where('rejected', '=', false)
    .executeTakeFirst();
}

export async function findOrderForUpdate(db: AnyDb, id: string): Promise<OrderRow | undefined> {
  return scoped(db).selectFrom('sales_order').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * One page of orders, newest first (ids are UUIDv7: time-ordered), optionally of one status, and
 * the total count of the filter.
 */
export async function findOrderPage(
  db: AnyDb,
  query: { status: OrderStatus | null; beforeId: string | null; limit: number },
): Promise<{ rows: OrderRow[]; totalCount: number }> {
  let page = scoped(db).selectFrom('sales_order').selectAll();
  let count = scoped(db)
    .selectFrom('sales_order')
    .select((eb) => eb.fn.countAll<string>().as('n'));
  if (query.status !== null) {
    page = page.where('status', '=', query.status);
    count = count.where('status', '=', query.status);
  }
  if (query.beforeId !== null) page = page.where('id', '<', query.beforeId);
  const [rows, total] = await Promise.all([
    page.orderBy('id', 'desc').limit(query.limit).execute(),
    count.executeTakeFirstOrThrow(),
  ]);
  return { rows, totalCount: Number(total.n) };
}

/** Inserts the order with a PENDING step per system. */
export async function insertOrder(
  db: AnyDb,
  row: Omit<Insertable<SalesOrderTable>, 'created_at' | 'updated_at' | 'rejected'>,
): Promise<OrderRow> {
  const order = await scoped(db)
    .insertInto('sales_order')
    .values(row)
    .returningAll()
    .executeTakeFirstOrThrow();
  await scoped(db)
    .insertInto('order_step')
    .values(
      ORDER_SYSTEMS.map((system) => ({
        order_id: order.id,
        system,
        status: 'PENDING' as const,
        attempts: 0,
        last_error: null,
        completed_at: null,
      })),
    )
    .execute();
  return order;
}

export async function updateOrder(
  db: AnyDb,
  id: string,
  changes: Partial<Pick<OrderRow, 'status' | 'rejected' | 'subscription_id' | 'first_invoice_id'>>,
): Promise<void> {
  await scoped(db)
    .updateTable('sales_order')
    .set({ ...changes, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

/** Records billing's checks (replacing any earlier report of the same order). */
export async function saveChecks(
  db: AnyDb,
  orderId: string,
  checks: readonly Omit<OrderCheckRow, 'order_id'>[],
): Promise<void> {
  await scoped(db).deleteFrom('order_check').where('order_id', '=', orderId).execute();
  if (checks.length === 0) return;
  await scoped(db)
    .insertInto('order_check')
    .values(checks.map((check) => ({ order_id: orderId, ...check })))
    .execute();
}

export async function findChecksByOrderIds(db: AnyDb, ids: readonly string[]): Promise<OrderCheckRow[]> {
  if (ids.length === 0) return [];
  const rows = await scoped(db).selectFrom('order_check').selectAll().where('order_id', 'in', ids).execute();
  return rows.sort((a, b) => CHECK_ORDER.indexOf(a.name) - CHECK_ORDER.indexOf(b.name));
}

export async function findStepsByOrderIds(db: AnyDb, ids: readonly string[]): Promise<OrderStepRow[]> {
  if (ids.length === 0) return [];
  const rows = await scoped(db).selectFrom('order_step').selectAll().where('order_id', 'in', ids).execute();
  return rows.sort((a, b) => ORDER_SYSTEMS.indexOf(a.system) - ORDER_SYSTEMS.indexOf(b.system));
}

export async function updateOrderStep(
  db: AnyDb,
  orderId: string,
  system: OrderSystem,
  changes: { status: OrderStepStatus; attempts?: number; lastError?: string; completedAt?: Date },
): Promise<void> {
  await scoped(db)
    .updateTable('order_step')
    .set({
      status: changes.status,
      ...(changes.attempts !== undefined ? { attempts: changes.attempts } : {}),
      ...(changes.lastError !== undefined ? { last_error: changes.lastError } : {}),
      ...(changes.completedAt !== undefined ? { completed_at: changes.completedAt } : {}),
      updated_at: new Date(),
    })
    .where('order_id', '=', orderId)
    .where('system', '=', system)
    .execute();
}

export type { OrderStatus };
