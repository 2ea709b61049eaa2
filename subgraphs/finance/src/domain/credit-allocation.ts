import type { AnyTransaction } from '@c2c/platform/db';
import {
  allocateCredit,
  findOpenDocumentsForUpdate,
  type ReceivableRow,
} from '../data/receivable.repository.ts';
import { planAllocations, type Allocation } from './credit-allocation.rules.ts';

export { planAllocations, type Allocation };

/**
 * Settles subscriptions' credit balances against their open invoices, inside the caller's
 * transaction: run when a credit note arrives (it pays the oldest open invoices) and when an
 * invoice arrives (an earlier credit balance pays it). Moves within Accounts Receivable, so no
 * journal entry; the balance is unchanged, the amounts due and overdue follow.
 *
 * `arrived` are the documents just received, in their order (all already inserted): the result is
 * what settling after each of them in turn would give — each sees the documents before it, not
 * those after — with one read for them all. Returns the allocations per arrived document.
 */
export async function allocateCredits(
  trx: AnyTransaction,
  arrived: readonly { id: string; subscriptionId: string; currency: string }[],
): Promise<Allocation[][]> {
  const key = (subscriptionId: string, currency: string) => `${subscriptionId} ${currency}`;
  const pairs = new Map(arrived.map((doc) => [key(doc.subscriptionId, doc.currency), doc]));
  const open = new Map<string, ReceivableRow[]>();
  for (const row of await findOpenDocumentsForUpdate(trx, [...pairs.values()])) {
    if (row.subscription_id === null) continue;
    const k = key(row.subscription_id, row.currency);
    open.set(k, [...(open.get(k) ?? []), { ...row }]);
  }
  const position = new Map(arrived.map((doc, i) => [doc.id, i]));
  const result: Allocation[][] = [];
  for (const [i, doc] of arrived.entries()) {
    const rows = open.get(key(doc.subscriptionId, doc.currency)) ?? [];
    // The documents there were when this one arrived: not those that arrive after it.
    const seen = rows.filter((row) => (position.get(row.invoice_id) ?? -1) <= i);
    const allocations = planAllocations(seen);
    for (const allocation of allocations) {
      await allocateCredit(trx, { ...allocation, currency: doc.currency });
      for (const row of rows) {
        if (row.invoice_id === allocation.invoiceId) row.amount_due_minor -= allocation.amountMinor;
        if (row.invoice_id === allocation.creditNoteId) row.amount_due_minor += allocation.amountMinor;
      }
    }
    result.push(allocations);
  }
  return result;
}
