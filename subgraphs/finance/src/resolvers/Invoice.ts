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
  // With an external ERP, a posted invoice's amount due is the ERP's (docs/adapters.md).
  amountDue: async (ref, _, ctx) => {
    const row = await receivableOf(ref, ctx);
    if (!row) return null;
    const held =
      row.kind === 'INVOICE' && row.posting_status === 'POSTED'
        ? await ctx.erpAmountToPay(row.invoice_id)
        : null;
    return money(held ?? row.amount_due_minor, row.currency);
  },
  payments: async (ref, _, ctx) => {
    const row = await receivableOf(ref, ctx);
    return row ? ctx.loaders.paymentsByInvoiceId.load(row.invoice_id) : [];
  },
};
