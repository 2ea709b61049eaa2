import { sql, type Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { scoped, type CustomerRow } from './customer.repository.ts';
import { SCHEMA, type ContractLineTable } from './tables.ts';

export type ContractLineRow = Selectable<ContractLineTable>;

/** The stored lines of these customers, and of these subscriptions (whoever's they are). */
export async function findContractLines(
  db: AnyDb,
  where: { customerIds: readonly string[]; subscriptionIds: readonly string[] },
): Promise<ContractLineRow[]> {
  if (where.customerIds.length === 0 && where.subscriptionIds.length === 0) return [];
  return scoped(db)
    .selectFrom('contract_line')
    .selectAll()
    .where((eb) =>
      eb.or([
        ...(where.customerIds.length > 0 ? [eb('customer_id', 'in', where.customerIds)] : []),
        ...(where.subscriptionIds.length > 0 ? [eb('subscription_id', 'in', where.subscriptionIds)] : []),
      ]),
    )
    .execute();
}

/**
 * Writes contract lines (one row per subscription) in one statement, each unless a newer version
 * of its subscription is already there. A line already stored keeps its customer.
 */
export async function upsertContractLines(
  db: AnyDb,
  lines: readonly Omit<ContractLineRow, 'updated_at'>[],
): Promise<void> {
  if (lines.length === 0) return;
  await scoped(db)
    .insertInto('contract_line')
    .values([...lines])
    .onConflict((oc) =>
      oc
        .column('subscription_id')
        .doUpdateSet((eb) => ({
          currency: eb.ref('excluded.currency'),
          annual_value_minor: eb.ref('excluded.annual_value_minor'),
          active: eb.ref('excluded.active'),
          source_version: eb.ref('excluded.source_version'),
          updated_at: sql<Date>`now()`,
        }))
        .where('contract_line.source_version', '<', (eb) => eb.ref('excluded.source_version')),
    )
    .execute();
}

/** Sets customers' contract values, in one statement. */
export async function setContractValues(
  db: AnyDb,
  values: readonly { customerId: string; value: ContractValue }[],
): Promise<void> {
  if (values.length === 0) return;
  await sql`update ${sql.table(`${SCHEMA}.customer`)} as c
    set contract_value_minor = v.value_minor, contract_currency = v.currency
    from (values ${sql.join(
      values.map(
        ({ customerId, value }) =>
          sql`(${customerId}::uuid, ${value.contractValueMinor}::bigint, ${value.currency}::text)`,
      ),
    )}) as v (id, value_minor, currency)
    where c.id = v.id`.execute(db);
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
