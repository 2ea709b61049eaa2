import { v7 as uuidv7 } from 'uuid';
import type { AnyTransaction } from '@c2c/platform/db';
import { insertJournalEntry } from '../../data/ledger.repository.ts';
import { billingDocumentLines, paymentLines, type JournalLineDraft } from '../../domain/journal.ts';
import type { BillingDocument, LedgerPayment, LedgerPort } from '../ledger.port.ts';

const rows = (lines: JournalLineDraft[]) =>
  lines.map((l) => ({ account: l.account, side: l.side, amount_minor: l.amountMinor, currency: l.currency }));

/** The built-in ledger: double-entry journal entries in the finance subgraph's own tables. */
export class BuiltinLedger implements LedgerPort {
  readonly system = 'builtin';
  readonly external = false;

  async connect(): Promise<void> {}

  async publishDocument(): Promise<null> {
    return null;
  }

  async recordDocument(trx: AnyTransaction, doc: BillingDocument): Promise<string> {
    const id = uuidv7();
    await insertJournalEntry(trx, {
      id,
      entryDate: doc.issuedOn,
      memo: `${doc.kind === 'INVOICE' ? 'Invoice' : 'Credit note'} ${doc.number} issued`,
      sourceType: doc.kind,
      sourceId: doc.id,
      lines: rows(billingDocumentLines(doc)),
    });
    return id;
  }

  async applyPayment(trx: AnyTransaction, payment: LedgerPayment): Promise<string> {
    const id = uuidv7();
    await insertJournalEntry(trx, {
      id,
      entryDate: payment.receivedOn,
      memo: `Payment on invoice ${payment.invoiceNumber}`,
      sourceType: 'PAYMENT',
      sourceId: payment.id,
      lines: rows(paymentLines(payment.amountMinor, payment.currency)),
    });
    return id;
  }

  /** Nothing happens behind our back in our own tables. */
  async recordExternalPayment(): Promise<null> {
    return null;
  }

  async postedTotals(): Promise<null> {
    return null;
  }

  async amountsToPay(): Promise<null> {
    return null;
  }

  watch(): void {}

  async close(): Promise<void> {}
}
