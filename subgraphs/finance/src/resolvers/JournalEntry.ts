import { money } from '@c2c/platform/core';
import type { JournalEntryResolvers, JournalLineResolvers } from '../generated/resolvers.ts';

export const JournalEntry: JournalEntryResolvers = {
  entryDate: (row) => row.entry_date,
  lines: (row, _, ctx) => ctx.loaders.linesByEntryId.load(row.id),
  createdAt: (row) => row.created_at,
};

export const JournalLine: JournalLineResolvers = {
  amount: (row) => money(row.amount_minor, row.currency),
};
