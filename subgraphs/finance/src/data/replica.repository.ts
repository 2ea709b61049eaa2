import type { AnyDb } from '@c2c/platform/db';
import { scoped, type ContractTable, type CustomerMasterTable } from './tables.ts';

export type CustomerMasterValues = Omit<CustomerMasterTable, 'updated_at'>;
export type ContractValues = Omit<ContractTable, 'updated_at'>;

/** Upserts the customer master unless a newer version of the account was already applied. */
export async function upsertCustomerMaster(db: AnyDb, values: CustomerMasterValues): Promise<boolean> {
  const { id: _id, ...changes } = values;
  const written = await scoped(db)
    .insertInto('customer_master')
    .values(values)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ ...changes, updated_at: new Date() })
        .where('customer_master.version', '<', values.version),
    )
    .returning('id')
    .executeTakeFirst();
  return written !== undefined;
}

/**
 * Upserts contract records in one statement, each unless a newer version of its subscription was
 * already applied (at most one row per subscription). Returns the subscriptions written.
 */
export async function upsertContracts(db: AnyDb, rows: readonly ContractValues[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const written = await scoped(db)
    .insertInto('contract')
    .values([...rows])
    .onConflict((oc) =>
      oc
        .column('subscription_id')
        .doUpdateSet((eb) => ({
          customer_id: eb.ref('excluded.customer_id'),
          plan_code: eb.ref('excluded.plan_code'),
          billing_period: eb.ref('excluded.billing_period'),
          status: eb.ref('excluded.status'),
          seats: eb.ref('excluded.seats'),
          unit_price_minor: eb.ref('excluded.unit_price_minor'),
          currency: eb.ref('excluded.currency'),
          start_date: eb.ref('excluded.start_date'),
          period_start: eb.ref('excluded.period_start'),
          period_end: eb.ref('excluded.period_end'),
          version: eb.ref('excluded.version'),
          updated_at: new Date(),
        }))
        .where('contract.version', '<', (eb) => eb.ref('excluded.version')),
    )
    .returning('subscription_id')
    .execute();
  return new Set(written.map((row) => row.subscription_id));
}
