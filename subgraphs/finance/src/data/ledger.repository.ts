import { sql, type Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { scoped, type JournalEntryTable, type JournalLineTable, type LedgerAccount } from './tables.ts';

export type JournalEntryRow = Selectable<JournalEntryTable>;
export type JournalLineRow = Selectable<JournalLineTable>;

export interface NewJournalEntry {
  id: string;
  entryDate: string;
  memo: string;
  sourceType: 'INVOICE' | 'CREDIT_NOTE' | 'PAYMENT' | 'MONTH_CLOSE';
  sourceId: string;
  lines: readonly Omit<JournalLineRow, 'entry_id' | 'line_no'>[];
}

export async function insertJournalEntry(db: AnyDb, entry: NewJournalEntry): Promise<void> {
  await scoped(db)
    .insertInto('journal_entry')
    .values({
      id: entry.id,
      entry_date: entry.entryDate,
      memo: entry.memo,
      source_type: entry.sourceType,
      source_id: entry.sourceId,
    })
    .execute();
  if (entry.lines.length === 0) return;
  await scoped(db)
    .insertInto('journal_line')
    .values(entry.lines.map((line, index) => ({ ...line, entry_id: entry.id, line_no: index + 1 })))
    .execute();
}

export async function findLinesByEntryIds(db: AnyDb, entryIds: readonly string[]): Promise<JournalLineRow[]> {
  if (entryIds.length === 0) return [];
  return scoped(db)
    .selectFrom('journal_line')
    .selectAll()
    .where('entry_id', 'in', entryIds)
    .orderBy('entry_id')
    .orderBy('line_no')
    .execute();
}

/** Newest first by id: ids are UUID v7, so their order is creation order. */
export async function findJournalPage(
  db: AnyDb,
  query: { afterId: string | null; limit: number },
): Promise<{ rows: JournalEntryRow[]; totalCount: number }> {
  let page = scoped(db).selectFrom('journal_entry').selectAll();
  if (query.afterId !== null) page = page.where('id', '<', query.afterId);
  const [rows, total] = await Promise.all([
    page.orderBy('id', 'desc').limit(query.limit).execute(),
    scoped(db)
      .selectFrom('journal_entry')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, totalCount: Number(total.n) };
}

export interface AccountBalanceRow {
  account: LedgerAccount;
  currency: string;
  balanceMinor: number;
}

/** Debits minus credits per account and currency. */
export async function accountBalances(db: AnyDb): Promise<AccountBalanceRow[]> {
  const rows = await scoped(db)
    .selectFrom('journal_line')
    .select([
      'account',
      'currency',
      sql<number>`sum(case when side = 'DEBIT' then amount_minor else -amount_minor end)::bigint`.as(
        'balance',
      ),
    ])
    .groupBy(['account', 'currency'])
    .orderBy('account')
    .orderBy('currency')
    .execute();
  return rows.map((row) => ({
    account: row.account,
    currency: row.currency,
    balanceMinor: Number(row.balance),
  }));
}
