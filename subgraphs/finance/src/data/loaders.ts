import DataLoader from 'dataloader';
import { todayUtc } from '@c2c/platform/core';
import { type AnyDb } from '@c2c/platform/db';
import { type Clock } from '@c2c/platform/subgraph';
import { findLinesByEntryIds, type JournalLineRow } from './ledger.repository.ts';
import { findPaymentsByIds, findPaymentsByInvoiceIds, type PaymentRow } from './payment.repository.ts';
import {
  findReceivablesByIds,
  receivableTotals,
  type ReceivableRow,
  type ReceivableTotals,
} from './receivable.repository.ts';
import { revenueByMonth, type RevenueMonthRow } from './revenue.repository.ts';

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

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

/** Per-request loaders: one SQL query per entity type per request, whatever the list size. */
export function createFinanceLoaders(db: AnyDb, clock: Clock) {
  return {
    receivableById: new DataLoader<string, ReceivableRow | null>(async (ids) => {
      const byId = new Map((await findReceivablesByIds(db, ids)).map((row) => [row.invoice_id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    paymentById: new DataLoader<string, PaymentRow | null>(async (ids) => {
      const byId = new Map((await findPaymentsByIds(db, ids)).map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    paymentsByInvoiceId: new DataLoader<string, PaymentRow[]>(async (ids) => {
      const groups = groupBy(await findPaymentsByInvoiceIds(db, ids), (row) => row.invoice_id);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    receivableByCustomerId: new DataLoader<string, ReceivableTotals | null>(async (ids) => {
      const groups = groupBy(await receivableTotals(db, ids, todayUtc(clock.now())), (row) => row.customerId);
      return ids.map((id) => dominantCurrency(groups.get(id) ?? []));
    }),
    revenueBySubscriptionId: new DataLoader<string, RevenueMonthRow[]>(async (ids) => {
      const groups = groupBy(await revenueByMonth(db, ids), (row) => row.subscriptionId);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    linesByEntryId: new DataLoader<string, JournalLineRow[]>(async (ids) => {
      const groups = groupBy(await findLinesByEntryIds(db, ids), (row) => row.entry_id);
      return ids.map((id) => groups.get(id) ?? []);
    }),
  };
}

export type FinanceLoaders = ReturnType<typeof createFinanceLoaders>;
