import { type AnyDb } from '@c2c/platform/db';
import { accountBalances, findJournalPage } from '../data/ledger.repository.ts';

/** Reads of the ledger: journal entries newest first, and the trial balance. */
export class LedgerQueries {
  constructor(private readonly db: AnyDb) {}

  /** One page of journal entries newest first (ids are UUID v7), and the total count. */
  journalPage(afterId: string | null, limit: number) {
    return findJournalPage(this.db, { afterId, limit });
  }

  /** Debits minus credits per account and currency. */
  trialBalance() {
    return accountBalances(this.db);
  }
}
