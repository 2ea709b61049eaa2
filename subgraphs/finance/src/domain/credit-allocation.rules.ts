import type { ReceivableRow } from '../data/receivable.repository.ts';

export interface Allocation {
  creditNoteId: string;
  invoiceId: string;
  amountMinor: number;
}

/**
 * Pairs credit balances with open invoices, both oldest first (docs/billing-rules.md §3: a credit note is
 * allocated to the open invoices of its subscription, oldest first; the rest stays a credit
 * balance). Pure: `documents` are one subscription's, in one currency, ordered oldest first.
 */
export function planAllocations(documents: readonly ReceivableRow[]): Allocation[] {
  const invoices = documents
    .filter((doc) => doc.kind === 'INVOICE' && doc.amount_due_minor > 0)
    .map((doc) => ({ id: doc.invoice_id, due: doc.amount_due_minor }));
  const credits = documents
    .filter((doc) => doc.kind === 'CREDIT_NOTE' && doc.amount_due_minor < 0)
    .map((doc) => ({ id: doc.invoice_id, left: -doc.amount_due_minor }));
  const allocations: Allocation[] = [];
  let i = 0;
  for (const credit of credits) {
    while (credit.left > 0 && i < invoices.length) {
      const invoice = invoices[i]!;
      const amountMinor = Math.min(credit.left, invoice.due);
      allocations.push({ creditNoteId: credit.id, invoiceId: invoice.id, amountMinor });
      credit.left -= amountMinor;
      invoice.due -= amountMinor;
      if (invoice.due === 0) i += 1;
    }
  }
  return allocations;
}
