import { sql, type Insertable, type Selectable } from 'kysely';
import type { Period } from '@c2c/platform/core';
import type { AnyDb } from '@c2c/platform/db';
import type { BillToRow } from './bill-to.repository.ts';
import type { PlanRow } from './plan.repository.ts';
import { scoped, type SubscriptionTable } from './tables.ts';

export type SubscriptionRow = Selectable<SubscriptionTable>;

export async function findSubscriptionsByIds(db: AnyDb, ids: readonly string[]): Promise<SubscriptionRow[]> {
  if (ids.length === 0) return [];
  return scoped(db).selectFrom('subscription').selectAll().where('id', 'in', ids).execute();
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
  return rows;
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

export async function insertSubscription(
  db: AnyDb,
  row: Omit<Insertable<SubscriptionTable>, 'version' | 'created_at' | 'updated_at'>,
): Promise<SubscriptionRow> {
  return scoped(db).insertInto('subscription').values(row).returningAll().executeTakeFirstOrThrow();
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
  return rows;
}

/** Cancelled subscriptions that still have unbilled usage, locked for the billing run. */
export async function findEndedWithUnbilledUsageForUpdate(db: AnyDb): Promise<SubscriptionRow[]> {
  return scoped(db)
    .selectFrom('subscription')
    .selectAll()
    .where('status', '=', 'CANCELLED')
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('usage_period')
          .select('usage_period.metric')
          .whereRef('usage_period.subscription_id', '=', 'subscription.id')
          .whereRef('usage_period.quantity_micro', '<>', 'usage_period.billed_quantity_micro'),
      ),
    )
    .orderBy('created_at')
    .orderBy('id')
    .forUpdate()
    .execute();
}

/**
 * Moves a subscription to period `index`, applying a seat change scheduled for the renewal; the
 * version guard fails loudly on a concurrent writer.
 */
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
      seats: eb.fn.coalesce('pending_seats', 'seats'),
      pending_seats: null,
      version: eb('version', '+', 1),
      updated_at: new Date(),
    }))
    .where('id', '=', current.id)
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirstOrThrow();
  return row;
}

/** A subscription locked for an amendment, with the bill-to account and plan it refers to. */
export interface LockedSubscription {
  subscription: SubscriptionRow;
  /** Undefined only if the replica or the catalog lost a row: a bug the caller reports. */
  billTo: BillToRow | undefined;
  plan: PlanRow | undefined;
}

/**
 * Locks one subscription for an amendment (amendments of a subscription take turns) and reads its
 * bill-to account and plan in the same statement. Those two are read as they were when the
 * statement began, before any wait for the lock: neither is guarded by this lock (a customer
 * suspended a moment later is no different), and the locked row itself is the latest version.
 */
export async function findSubscriptionForUpdate(
  db: AnyDb,
  id: string,
): Promise<LockedSubscription | undefined> {
  const row = await scoped(db)
    .selectFrom('subscription as s')
    .leftJoin('bill_to_account as b', 'b.id', 's.customer_id')
    .leftJoin('plan as p', 'p.code', 's.plan_code')
    .selectAll('s')
    .select([
      sql<Record<string, unknown> | null>`to_jsonb(b)`.as('bill_to_row'),
      sql<Record<string, unknown> | null>`to_jsonb(p)`.as('plan_row'),
    ])
    .where('s.id', '=', id)
    .forUpdate(['s'])
    .executeTakeFirst();
  if (!row) return undefined;
  const { bill_to_row: billTo, plan_row: plan, ...subscription } = row;
  return {
    subscription,
    billTo: billTo
      ? ({ ...billTo, updated_at: new Date(billTo.updated_at as string) } as BillToRow)
      : undefined,
    plan: plan ? ({ ...plan, created_at: new Date(plan.created_at as string) } as PlanRow) : undefined,
  };
}

export interface SubscriptionChange {
  seats?: number;
  pendingSeats?: number | null;
  status?: 'ACTIVE' | 'CANCELLED';
  cancelAt?: string | null;
  cancelledOn?: string | null;
}

/** Applies an amendment's change and bumps the version, guarded by the version the caller read. */
export async function amendSubscriptionRow(
  db: AnyDb,
  current: SubscriptionRow,
  change: SubscriptionChange,
): Promise<SubscriptionRow> {
  const row = await scoped(db)
    .updateTable('subscription')
    .set((eb) => ({
      ...(change.seats !== undefined ? { seats: change.seats } : {}),
      ...(change.pendingSeats !== undefined ? { pending_seats: change.pendingSeats } : {}),
      ...(change.status !== undefined ? { status: change.status } : {}),
      ...(change.cancelAt !== undefined ? { cancel_at: change.cancelAt } : {}),
      ...(change.cancelledOn !== undefined ? { cancelled_on: change.cancelledOn } : {}),
      version: eb('version', '+', 1),
      updated_at: new Date(),
    }))
    .where('id', '=', current.id)
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirstOrThrow();
  return row;
}
