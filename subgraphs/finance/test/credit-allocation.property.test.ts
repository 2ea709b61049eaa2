import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertySettings } from '@c2c/platform/testing/property';
import type { ReceivableRow } from '../src/data/receivable.repository.ts';
import { planAllocations } from '../src/domain/credit-allocation.rules.ts';

// docs/billing-rules.md §3: credit notes go to the open invoices of their subscription, oldest first;
// the rest stays a credit balance. Fixed seed; FC_SEED and FC_RUNS run it longer.
const settings = propertySettings(300);

const doc = (kind: 'INVOICE' | 'CREDIT_NOTE', due: number, i: number) =>
  ({ invoice_id: `doc-${i}`, kind, amount_due_minor: due }) as ReceivableRow;

describe('credit allocation (property)', () => {
  it('keeps the balance, leaves no open invoice beside a credit balance, pays the oldest first', () => {
    const documents = fc.array(
      fc.oneof(
        fc.integer({ min: 0, max: 10_000 }).map((due) => ['INVOICE', due] as const),
        fc.integer({ min: -10_000, max: 0 }).map((due) => ['CREDIT_NOTE', due] as const),
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(documents, (raw) => {
        const rows = raw.map(([kind, due], i) => doc(kind, due, i));
        const due = new Map(rows.map((row) => [row.invoice_id, row.amount_due_minor]));
        for (const a of planAllocations(rows)) {
          expect(a.amountMinor).toBeGreaterThan(0);
          due.set(a.invoiceId, due.get(a.invoiceId)! - a.amountMinor);
          due.set(a.creditNoteId, due.get(a.creditNoteId)! + a.amountMinor);
        }
        const sum = (values: Iterable<number>) => [...values].reduce((s, v) => s + v, 0);
        expect(sum(due.values())).toBe(sum(rows.map((row) => row.amount_due_minor)));
        const invoices = rows.filter((row) => row.kind === 'INVOICE').map((row) => due.get(row.invoice_id)!);
        const credits = rows
          .filter((row) => row.kind === 'CREDIT_NOTE')
          .map((row) => due.get(row.invoice_id)!);
        for (const left of invoices) expect(left).toBeGreaterThanOrEqual(0);
        for (const left of credits) expect(left).toBeLessThanOrEqual(0);
        expect(invoices.some((left) => left > 0) && credits.some((left) => left < 0)).toBe(false);
        // Oldest first: once an invoice is left open, every later one is untouched.
        const firstOpen = invoices.findIndex((left) => left > 0);
        const originals = rows.filter((row) => row.kind === 'INVOICE').map((row) => row.amount_due_minor);
        if (firstOpen >= 0) expect(invoices.slice(firstOpen + 1)).toEqual(originals.slice(firstOpen + 1));
      }),
      settings,
    );
  });
});
