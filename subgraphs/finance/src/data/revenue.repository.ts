import { sql, type Insertable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { scoped, type RevenueScheduleTable } from './tables.ts';

export async function insertRevenueRows(
  db: AnyDb,
  rows: readonly Insertable<RevenueScheduleTable>[],
): Promise<void> {
  if (rows.length === 0) return;
  await scoped(db)
    .insertInto('revenue_schedule')
    .values([...rows])
    .execute();
}

export interface RevenueMonthRow {
  subscriptionId: string;
  month: string;
  currency: string;
  amountMinor: number;
  recognized: boolean;
}

/** Revenue per subscription and month over all documents, oldest month first. */
export async function revenueByMonth(
  db: AnyDb,
  subscriptionIds: readonly string[],
): Promise<RevenueMonthRow[]> {
  if (subscriptionIds.length === 0) return [];
  const rows = await scoped(db)
    .selectFrom('revenue_schedule')
    .select([
      'subscription_id',
      'month',
      'currency',
      sql<number>`sum(amount_minor)::bigint`.as('amount'),
      sql<boolean>`bool_and(recognized)`.as('recognized'),
    ])
    .where('subscription_id', 'in', subscriptionIds)
    .groupBy(['subscription_id', 'month', 'currency'])
    .orderBy('subscription_id')
    .orderBy('month')
    .orderBy('currency')
    .execute();
  return rows.map((row) => ({
    subscriptionId: row.subscription_id ?? '',
    month: row.month,
    currency: row.currency,
    amountMinor: Number(row.amount),
    recognized: row.recognized,
  }));
}

export interface RecognizedTotal {
  currency: string;
  amountMinor: number;
}

/**
 * Marks every unrecognized schedule row of `month` and earlier months recognized, in one
 * statement (a concurrent close waits on the row locks and then skips the rows this one took),
 * and returns the net amount it marked per currency, by currency.
 */
export async function markRecognizedThrough(db: AnyDb, month: string): Promise<RecognizedTotal[]> {
  const rows = await scoped(db)
    .with('marked', (qb) =>
      qb
        .updateTable('revenue_schedule')
        .set({ recognized: true })
        .where('recognized', '=', false)
        .where('month', '<=', month)
        .returning(['currency', 'amount_minor']),
    )
    .selectFrom('marked')
    .select(['currency', sql<number>`sum(amount_minor)::bigint`.as('amount')])
    .groupBy('currency')
    .orderBy('currency')
    .execute();
  return rows.map((row) => ({ currency: row.currency, amountMinor: Number(row.amount) }));
}
