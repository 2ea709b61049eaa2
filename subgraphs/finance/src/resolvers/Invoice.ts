import { money } from '@c2c/platform/core';
import type { ReceivableRow } from '../data/receivable.repository.ts';
import type { FinanceContext } from '../context.ts';

/** An invoice reference, with its receivable once loaded (null: the ERP has not received it yet). */
export interface InvoiceRef {
  id: string;
  receivable?: ReceivableRow | null;
}

const receivableOf = (ref: InvoiceRef, ctx: FinanceContext) =>
  ref.receivable !== undefined ? Promise.resolve(ref.receivable) : ctx.loadReceivable(ref.id);

export const Invoice = {
  __resolveReference: async (ref: { id: string }, ctx: FinanceContext): Promise<InvoiceRef> => ({
    id: ref.id,
    receivable: await ctx.loadReceivable(ref.id),
  }),
  posting: async (ref: InvoiceRef, _: unknown, ctx: FinanceContext) => {
    const row = await receivableOf(ref, ctx);
    if (!row) return { status: 'PENDING', journalEntryId: null, postedAt: null, error: null };
    return {
      status: row.posting_status,
      journalEntryId: row.journal_entry_id,
      postedAt: row.posted_at,
      error: row.posting_error,
    };
  },
  amountDue: async (ref: InvoiceRef, _: unknown, ctx: FinanceContext) => {
    const row = await receivableOf(ref, ctx);
    return row ? money(row.amount_due_minor, row.currency) : null;
  },
  payments: async (ref: InvoiceRef, _: unknown, ctx: FinanceContext) => {
    const row = await receivableOf(ref, ctx);
    return row ? ctx.loaders.paymentsByInvoiceId.load(row.invoice_id) : [];
  },
};
