import type { Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { scoped, type TaxRateTable } from './tables.ts';

export type TaxRateRow = Selectable<TaxRateTable>;

/** Every dated rate of the given countries; the table is small, the choice is made in the domain. */
export async function findTaxRates(db: AnyDb, countries: readonly string[]): Promise<TaxRateRow[]> {
  if (countries.length === 0) return [];
  const rows = await scoped(db)
    .selectFrom('tax_rate')
    .selectAll()
    .where('country', 'in', countries)
    .orderBy('id')
    .execute();
  return rows;
}
