import { money } from '@c2c/platform/core';
import type { JournalEntryRow, JournalLineRow } from '../data/ledger.repository.ts';
import type { FinanceContext } from '../context.ts';

export const JournalEntry = {
  entryDate: (row: JournalEntryRow) => row.entry_date,
  lines: (row: JournalEntryRow, _: unknown, ctx: FinanceContext) => ctx.loaders.linesByEntryId.load(row.id),
  createdAt: (row: JournalEntryRow) => row.created_at,
};

export const JournalLine = {
  amount: (row: JournalLineRow) => money(row.amount_minor, row.currency),
};
