import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCreditNote, anInvoice } from './builders.ts';
import { startFinance, type FinanceHarness } from './harness.ts';

describe('credit notes are allocated to open invoices (the ledger)', () => {
  let h: FinanceHarness;
  beforeAll(async () => {
    h = await startFinance();
  });
  afterAll(() => h.close());

  const amountDue = async (ids: string[]) =>
    (
      await h.entities<{ amountDue: { amount: string } }>(
        '... on Invoice { amountDue { amount } }',
        ids.map((id) => ({ __typename: 'Invoice', id })),
      )
    ).map((doc) => doc.amountDue.amount);
  const receivable = async (customerId: string) =>
    (
      await h.entities(
        '... on Customer { receivable { balance { amount } overdue { amount } openInvoiceCount } }',
        [{ __typename: 'Customer', id: customerId }],
      )
    )[0].receivable;

  it('applies a credit note to the same subscription’s open invoices, oldest first; the rest is a credit balance', async () => {
    const customerId = randomUUID();
    const subscriptionId = randomUUID();
    const common = { customerId, subscriptionId };
    // Two overdue invoices of 36.89 each, the older first; one of another subscription.
    const older = anInvoice({ ...common, issuedOn: '2026-01-15', dueOn: '2026-02-14' });
    const newer = anInvoice({ ...common, issuedOn: '2026-02-15', dueOn: '2026-03-01' });
    const other = anInvoice({ customerId, subscriptionId: randomUUID(), dueOn: '2026-03-09' });
    for (const doc of [newer, older, other]) await h.issue(doc);

    // 50.00 + 9.50 tax = 59.50: 36.89 pays the older invoice off, 22.61 goes to the newer one.
    const note = aCreditNote({ ...common, issuedOn: '2026-03-05', dueOn: '2026-03-05' }, 5000, 950);
    await h.issue(note);
    expect(await amountDue([older.id, newer.id, other.id, note.id])).toEqual([
      '0.00',
      '14.28',
      '36.89',
      '0.00',
    ]);
    expect(await receivable(customerId)).toEqual({
      balance: { amount: '51.17' }, // 3 × 36.89 − 59.50
      overdue: { amount: '51.17' }, // never more than the balance
      openInvoiceCount: 2,
    });

    // A second credit larger than what is still open: the remainder stays a credit balance on the note.
    const big = aCreditNote({ ...common, issuedOn: '2026-03-06', dueOn: '2026-03-06' }, 2000, 380);
    await h.issue(big);
    expect(await amountDue([newer.id, big.id])).toEqual(['0.00', '-9.52']); // 23.80 − 14.28

    // The next invoice of the subscription is paid from that credit balance first.
    const next = anInvoice({ ...common, issuedOn: '2026-03-15', dueOn: '2026-04-14' });
    await h.issue(next);
    expect(await amountDue([next.id, big.id])).toEqual(['27.37', '0.00']); // 36.89 − 9.52
    expect(await h.count('credit_allocation', { credit_note_id: big.id })).toBe(2);
  });
});
