import { describe, expect, it } from 'vitest';
import { assertBalanced, billingDocumentLines, paymentLines } from '../src/domain/journal.ts';

describe('journal entries (the ledger)', () => {
  it('posts an invoice as Dr AR total / Cr Deferred Revenue subtotal / Cr Tax Payable tax', () => {
    expect(
      billingDocumentLines({ currency: 'EUR', subtotalMinor: 10_000, taxMinor: 1_900, totalMinor: 11_900 }),
    ).toEqual([
      { account: 'ACCOUNTS_RECEIVABLE', side: 'DEBIT', amountMinor: 11_900, currency: 'EUR' },
      { account: 'DEFERRED_REVENUE', side: 'CREDIT', amountMinor: 10_000, currency: 'EUR' },
      { account: 'TAX_PAYABLE', side: 'CREDIT', amountMinor: 1_900, currency: 'EUR' },
    ]);
  });

  it('omits a zero tax line', () => {
    expect(
      billingDocumentLines({ currency: 'USD', subtotalMinor: 995, taxMinor: 0, totalMinor: 995 }),
    ).toEqual([
      { account: 'ACCOUNTS_RECEIVABLE', side: 'DEBIT', amountMinor: 995, currency: 'USD' },
      { account: 'DEFERRED_REVENUE', side: 'CREDIT', amountMinor: 995, currency: 'USD' },
    ]);
  });

  it('reverses a credit note with positive line amounts', () => {
    expect(
      billingDocumentLines({ currency: 'USD', subtotalMinor: -802, taxMinor: -152, totalMinor: -954 }),
    ).toEqual([
      { account: 'ACCOUNTS_RECEIVABLE', side: 'CREDIT', amountMinor: 954, currency: 'USD' },
      { account: 'DEFERRED_REVENUE', side: 'DEBIT', amountMinor: 802, currency: 'USD' },
      { account: 'TAX_PAYABLE', side: 'DEBIT', amountMinor: 152, currency: 'USD' },
    ]);
  });

  it('posts a payment as Dr Cash / Cr AR', () => {
    expect(paymentLines(500, 'JPY')).toEqual([
      { account: 'CASH', side: 'DEBIT', amountMinor: 500, currency: 'JPY' },
      { account: 'ACCOUNTS_RECEIVABLE', side: 'CREDIT', amountMinor: 500, currency: 'JPY' },
    ]);
    expect(() => paymentLines(0, 'JPY')).toThrow(expect.objectContaining({ code: 'INVALID_AMOUNT' }));
  });

  it('refuses a document whose total is not subtotal plus tax', () => {
    expect(() =>
      billingDocumentLines({ currency: 'USD', subtotalMinor: 1000, taxMinor: 190, totalMinor: 1191 }),
    ).toThrow(expect.objectContaining({ code: 'UNBALANCED_ENTRY' }));
  });

  it('balances per currency, not across currencies', () => {
    expect(() =>
      assertBalanced([
        { account: 'CASH', side: 'DEBIT', amountMinor: 100, currency: 'USD' },
        { account: 'ACCOUNTS_RECEIVABLE', side: 'CREDIT', amountMinor: 100, currency: 'EUR' },
      ]),
    ).toThrow(/USD/);
    expect(() =>
      assertBalanced([{ account: 'CASH', side: 'DEBIT', amountMinor: -5, currency: 'USD' }]),
    ).toThrow(/positive/);
    expect(() => assertBalanced([])).not.toThrow();
  });
});
