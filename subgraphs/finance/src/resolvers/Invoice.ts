import { money } from '@c2c/platform/core';
import type { FinanceContext } from '../context.ts';
import type { InvoiceRef } from './parents.ts';
import type { InvoiceResolvers } from '../generated/resolvers.ts';

const receivableOf = (ref: InvoiceRef, ctx: FinanceContext) =>
  ref.receivable !== undefined ? Promise.resolve(ref.receivable) : ctx.loadReceivable(ref.id);

export const Invoice: InvoiceResolvers = {
  __resolveReference: async (ref, ctx) => ({
    id: ref.id,
    receivable: await ctx.loadReceivable(ref.id),
  }),
  posting: async (ref, _, ctx) => {
    const row = await receivableOf(ref, ctx);
    if (!row) return { status: 'PENDING', journalEntryId: null, postedAt: null, error: null };
    return {
      status: row.posting_status,
      journalEntryId: row.journal_entry_id,
      postedAt: row.posted_at,
      error: row.posting_error,
    };
  },
  amountDue: async (ref, _, ctx) => {
    const row = await receivableOf(ref, ctx);
    return row ? money(row.amount_due_minor, row.currency) : null;
  },
  payments: async (ref, _, ctx) => {
    const row = await receivableOf(ref, ctx);
    return row ? ctx.loaders.paymentsByInvoiceId.load(row.invoice_id) : [];
  },
};
