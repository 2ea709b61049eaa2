import DataLoader from 'dataloader';
import { DomainError } from '@c2c/platform/core';
import type { LedgerPort } from '../ports/ledger.port.ts';

/**
 * Per request: the amount still to pay on posted invoices, read from the ERP that keeps the books
 * (one batched call per request, whatever the number of invoices shown). Null for the built-in
 * ledger, whose receivables are our own tables. A document the ERP does not hold resolves to null
 * (the caller shows our own figure); an ERP that cannot be read fails the field with
 * ERP_UNAVAILABLE, so the view says why instead of showing a figure the ERP did not give.
 */
export function erpAmountsToPay(ledger: LedgerPort): DataLoader<string, number | null> | null {
  if (!ledger.external) return null;
  return new DataLoader(async (ids) => {
    let held: Map<string, number> | null;
    try {
      held = await ledger.amountsToPay(ids);
    } catch (error) {
      throw new DomainError(
        'ERP_UNAVAILABLE',
        `the amount due could not be read from the ERP (${ledger.system}): ${(error as Error).message}`,
      );
    }
    return ids.map((id) => held?.get(id) ?? null);
  });
}
