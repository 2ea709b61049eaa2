import DataLoader from 'dataloader';
import { todayUtc } from '@c2c/platform/core';
import { type AnyDb } from '@c2c/platform/db';
import { byKeyLoader, groupBy, groupedLoader } from '@c2c/platform/graphql';
import { type Clock } from '@c2c/platform/subgraph';
import { findLinesByEntryIds } from './ledger.repository.ts';
import { findPaymentsByIds, findPaymentsByInvoiceIds } from './payment.repository.ts';
import { findReceivablesByIds, receivableTotals, type ReceivableTotals } from './receivable.repository.ts';
import { revenueByMonth } from './revenue.repository.ts';

/**
 * A customer bills in one currency; should documents in several exist, the receivable shows the
 * currency with the most documents (ties: alphabetical) rather than adding unlike money.
 */
function dominantCurrency(totals: readonly ReceivableTotals[]): ReceivableTotals | null {
  const sorted = [...totals].sort(
    (a, b) => b.documentCount - a.documentCount || a.currency.localeCompare(b.currency),
  );
  return sorted[0] ?? null;
}

type Ids = readonly string[];

/** Per-request loaders: one SQL query per entity type per request, whatever the list size. */
export function createFinanceLoaders(db: AnyDb, clock: Clock) {
  return {
    receivableById: byKeyLoader(
      (ids: Ids) => findReceivablesByIds(db, ids),
      (row) => row.invoice_id,
    ),
    paymentById: byKeyLoader(
      (ids: Ids) => findPaymentsByIds(db, ids),
      (row) => row.id,
    ),
    paymentsByInvoiceId: groupedLoader(
      (ids: Ids) => findPaymentsByInvoiceIds(db, ids),
      (row) => row.invoice_id,
    ),
    // Not a plain group: a customer's receivable is the dominant currency's totals.
    receivableByCustomerId: new DataLoader<string, ReceivableTotals | null>(async (ids) => {
      const groups = groupBy(await receivableTotals(db, ids, todayUtc(clock.now())), (row) => row.customerId);
      return ids.map((id) => dominantCurrency(groups.get(id) ?? []));
    }),
    revenueBySubscriptionId: groupedLoader(
      (ids: Ids) => revenueByMonth(db, ids),
      (row) => row.subscriptionId,
    ),
    linesByEntryId: groupedLoader(
      (ids: Ids) => findLinesByEntryIds(db, ids),
      (row) => row.entry_id,
    ),
  };
}

export type FinanceLoaders = ReturnType<typeof createFinanceLoaders>;
