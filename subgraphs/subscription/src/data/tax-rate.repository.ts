import type { Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform';
import { isoDate, isoDateOrNull, scoped, type TaxRateTable } from './tables.ts';

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
  return rows.map((row) => ({
    ...row,
    valid_from: isoDate(row.valid_from),
    valid_to: isoDateOrNull(row.valid_to),
  }));
}
