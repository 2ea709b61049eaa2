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

/** Upserts the contract record unless a newer version of the subscription was already applied. */
export async function upsertContract(db: AnyDb, values: ContractValues): Promise<boolean> {
  const { subscription_id: _id, ...changes } = values;
  const written = await scoped(db)
    .insertInto('contract')
    .values(values)
    .onConflict((oc) =>
      oc
        .column('subscription_id')
        .doUpdateSet({ ...changes, updated_at: new Date() })
        .where('contract.version', '<', values.version),
    )
    .returning('subscription_id')
    .executeTakeFirst();
  return written !== undefined;
}
