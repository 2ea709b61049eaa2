import type { AnyTransaction } from '@c2c/platform/db';
import { allocateCredit, findOpenDocumentsForUpdate } from '../data/receivable.repository.ts';
import { planAllocations, type Allocation } from './credit-allocation.rules.ts';

export { planAllocations, type Allocation };

/**
 * Settles a subscription's credit balances against its open invoices, inside the caller's
 * transaction: run when a credit note arrives (it pays the oldest open invoices) and when an
 * invoice arrives (an earlier credit balance pays it). Moves within Accounts Receivable, so no
 * journal entry; the balance is unchanged, the amounts due and overdue follow.
 */
export async function allocateCredits(
  trx: AnyTransaction,
  subscriptionId: string,
  currency: string,
): Promise<Allocation[]> {
  const documents = await findOpenDocumentsForUpdate(trx, subscriptionId, currency);
  const allocations = planAllocations(documents);
  for (const allocation of allocations) await allocateCredit(trx, { ...allocation, currency });
  return allocations;
}
