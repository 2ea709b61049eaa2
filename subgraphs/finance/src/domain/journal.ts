import { DomainError } from '@c2c/platform/core';
import type { EntrySide, LedgerAccount } from '../data/tables.ts';

export interface JournalLineDraft {
  account: LedgerAccount;
  side: EntrySide;
  /** Always positive: the side carries the direction. */
  amountMinor: number;
  currency: string;
}

export interface BillingDocumentAmounts {
  currency: string;
  subtotalMinor: number;
  taxMinor: number;
  totalMinor: number;
}

const OPPOSITE: Record<EntrySide, EntrySide> = { DEBIT: 'CREDIT', CREDIT: 'DEBIT' };

/**
 * A line on its natural side for a positive amount, on the other side for a negative one, and
 * no line at all for zero: that is how a credit note (negative amounts) reverses an invoice.
 */
function line(
  account: LedgerAccount,
  natural: EntrySide,
  signedMinor: number,
  currency: string,
): JournalLineDraft[] {
  if (signedMinor === 0) return [];
  return [
    {
      account,
      side: signedMinor > 0 ? natural : OPPOSITE[natural],
      amountMinor: Math.abs(signedMinor),
      currency,
    },
  ];
}

/** Invoice issued: Dr AR (total) / Cr Deferred Revenue (subtotal) / Cr Tax Payable (tax); a credit note reverses it. */
export function billingDocumentLines(doc: BillingDocumentAmounts): JournalLineDraft[] {
  const lines = [
    ...line('ACCOUNTS_RECEIVABLE', 'DEBIT', doc.totalMinor, doc.currency),
    ...line('DEFERRED_REVENUE', 'CREDIT', doc.subtotalMinor, doc.currency),
    ...line('TAX_PAYABLE', 'CREDIT', doc.taxMinor, doc.currency),
  ];
  assertBalanced(lines);
  return lines;
}

/** Payment received: Dr Cash / Cr AR. */
export function paymentLines(amountMinor: number, currency: string): JournalLineDraft[] {
  if (amountMinor <= 0)
    throw new DomainError('INVALID_AMOUNT', 'a payment must be greater than zero', 'amount');
  const lines = [
    ...line('CASH', 'DEBIT', amountMinor, currency),
    ...line('ACCOUNTS_RECEIVABLE', 'CREDIT', amountMinor, currency),
  ];
  assertBalanced(lines);
  return lines;
}

/**
 * Month close: Dr Deferred Revenue / Cr Revenue for the net amount recognized; a negative net
 * (credit notes outweigh invoices) swaps the sides, and zero yields no lines.
 */
export function recognitionLines(netMinor: number, currency: string): JournalLineDraft[] {
  const lines = [
    ...line('DEFERRED_REVENUE', 'DEBIT', netMinor, currency),
    ...line('REVENUE', 'CREDIT', netMinor, currency),
  ];
  assertBalanced(lines);
  return lines;
}

/**
 * Throws unless every line is a positive integer and debits equal credits per currency. A
 * zero-amount document yields no lines, which is trivially balanced: it still gets an entry so
 * that its posting has a journal entry to point at.
 */
export function assertBalanced(lines: readonly JournalLineDraft[]): void {
  const net = new Map<string, number>();
  for (const l of lines) {
    if (!Number.isSafeInteger(l.amountMinor) || l.amountMinor <= 0) {
      throw new DomainError(
        'UNBALANCED_ENTRY',
        `line amounts must be positive integers, got ${l.amountMinor}`,
      );
    }
    net.set(l.currency, (net.get(l.currency) ?? 0) + (l.side === 'DEBIT' ? l.amountMinor : -l.amountMinor));
  }
  for (const [currency, difference] of net) {
    if (difference !== 0) {
      throw new DomainError(
        'UNBALANCED_ENTRY',
        `debits and credits differ by ${difference} minor units of ${currency}`,
      );
    }
  }
}
