import { sql } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { scoped, type CustomerRow } from './customer.repository.ts';

export interface ContractLine {
  subscriptionId: string;
  customerId: string;
  currency: string;
  annualValueMinor: number;
  active: boolean;
  sourceVersion: number;
}

/** Upserts a contract line unless a newer version of the subscription was already applied. */
export async function upsertContractLine(db: AnyDb, line: ContractLine): Promise<boolean> {
  const written = await scoped(db)
    .insertInto('contract_line')
    .values({
      subscription_id: line.subscriptionId,
      customer_id: line.customerId,
      currency: line.currency,
      annual_value_minor: line.annualValueMinor,
      active: line.active,
      source_version: line.sourceVersion,
    })
    .onConflict((oc) =>
      oc
        .column('subscription_id')
        .doUpdateSet({
          currency: line.currency,
          annual_value_minor: line.annualValueMinor,
          active: line.active,
          source_version: line.sourceVersion,
          updated_at: new Date(),
        })
        .where('contract_line.source_version', '<', line.sourceVersion),
    )
    .returning('subscription_id')
    .executeTakeFirst();
  return written !== undefined;
}

/** Recomputes a customer's contract value from its active lines (one currency per customer). */
export async function refreshContractValue(db: AnyDb, customerId: string): Promise<void> {
  const totals = await scoped(db)
    .selectFrom('contract_line')
    .select(['currency', sql<number>`sum(annual_value_minor)`.as('total')])
    .where('customer_id', '=', customerId)
    .where('active', '=', true)
    .groupBy('currency')
    .orderBy('currency')
    .execute();
  const anyLine = await scoped(db)
    .selectFrom('contract_line')
    .select('currency')
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
  const first = totals[0];
  await scoped(db)
    .updateTable('customer')
    .set({
      contract_value_minor: first ? Number(first.total) : anyLine ? 0 : null,
      contract_currency: first?.currency ?? anyLine?.currency ?? null,
    })
    .where('id', '=', customerId)
    .execute();
}

export interface ContractValue {
  contractValueMinor: number | null;
  currency: string | null;
}

/** A customer's contract value as the CRM shows it; nulls when the customer is unknown or has none. */
export async function findContractValue(db: AnyDb, customerId: string): Promise<ContractValue> {
  const row = await scoped(db)
    .selectFrom('customer')
    .select(['contract_value_minor', 'contract_currency'])
    .where('id', '=', customerId)
    .executeTakeFirst();
  return {
    contractValueMinor: row?.contract_value_minor == null ? null : Number(row.contract_value_minor),
    currency: row?.contract_currency ?? null,
  };
}

const withContractValue = (db: AnyDb) =>
  scoped(db).selectFrom('customer').where('contract_value_minor', 'is not', null);

/** Reconciliation: customers with a contract value, by id, after the keyset position. */
export async function findContractValuePage(
  db: AnyDb,
  afterId: string | null,
  limit: number,
): Promise<CustomerRow[]> {
  let query = withContractValue(db).selectAll().orderBy('id').limit(limit);
  if (afterId !== null) query = query.where('id', '>', afterId);
  return query.execute();
}

export async function countContractValues(db: AnyDb): Promise<number> {
  const row = await withContractValue(db)
    .select(sql<string>`count(*)`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One subscription's contract line, if the CRM has it. */
export async function findContractLine(
  db: AnyDb,
  subscriptionId: string,
): Promise<{ subscription_id: string; customer_id: string } | undefined> {
  return scoped(db)
    .selectFrom('contract_line')
    .select(['subscription_id', 'customer_id'])
    .where('subscription_id', '=', subscriptionId)
    .executeTakeFirst();
}
