import type { IsoDate, Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import type { DocumentKind } from '../data/tables.ts';

/** A line of a billing document as billing issued it (a credit note's amounts are negative). */
export interface BillingDocumentLine {
  id: string;
  description?: string | undefined;
  amountMinor: number;
  taxMinor?: number | undefined;
  taxRatePpm?: number | undefined;
  periodStart: IsoDate;
  periodEnd: IsoDate;
}

/** An invoice or credit note as billing issued it; a credit note's amounts are negative. */
export interface BillingDocument {
  id: string;
  number: string;
  kind: DocumentKind;
  customerId: string;
  subscriptionId: string | null;
  businessUnit: string;
  currency: string;
  issuedOn: IsoDate;
  dueOn: IsoDate;
  subtotalMinor: number;
  taxMinor: number;
  totalMinor: number;
  lines: BillingDocumentLine[];
  /** The CRM order whose first invoice this is; echoed on `invoice.posted`. */
  orderId?: string | null;
}

/** What an external ledger answered for a document it now holds: its own ids, for the crosswalk. */
export interface ExternalPosting {
  /** The ERP's id of the document (Tryton: the `account.invoice` id). */
  erpId: string;
  /** The ERP's document number (Tryton numbers invoices when it posts them). */
  erpNumber: string | null;
  /** The ERP's accounting entry for it (Tryton: the `account.move` id). */
  erpEntryId: string | null;
}

/** A payment on a posted invoice, identified by our payment id (what makes it idempotent). */
export interface LedgerPayment {
  id: string;
  invoiceId: string;
  invoiceNumber: string;
  amountMinor: number;
  currency: string;
  receivedOn: IsoDate;
  reference: string | null;
}

/** A payment made in the ERP itself (an accountant entered it there), seen by change capture. */
export interface ExternalPayment extends LedgerPayment {
  /** The ERP's id of the payment (Tryton: its move). */
  erpId: string;
}

/** Where change capture hands what it saw in the ERP: the finance subgraph's services. */
export interface LedgerChanges {
  /**
   * Applies a payment made in the ERP (in a transaction of its own, idempotent by `erpId`):
   * `recorded`, `known` (applied before) or `unknown-invoice` (not one of billing's documents).
   */
  paymentSeen(payment: ExternalPayment): Promise<'recorded' | 'known' | 'unknown-invoice'>;
}

/**
 * The ERP's port: where billing's documents are posted and payments applied, whichever system keeps
 * the books. The finance subgraph's services call it; `builtin` keeps them in our own tables,
 * `tryton` in a Tryton server. Every write carries our id, so a retry finds the earlier write.
 *
 * Posting is two-phase: `publishDocument` runs outside any transaction (a remote call never holds
 * a database transaction open) and `recordDocument` inside the consumer's transaction. A payment
 * runs inside the mutation's transaction, under its idempotency key's lock.
 */
export interface LedgerPort {
  /** `builtin`, `tryton`, …: shown in logs, metrics and reconciliation. */
  readonly system: string;
  /**
   * True when another system keeps the books: `publishDocument` writes there and `postedTotals`
   * reads there. False for the built-in ledger, whose tables are ours (nothing to publish).
   */
  readonly external: boolean;
  /** Checks the connection and credentials at start; throws one clear message when it cannot. */
  connect(log: Logger): Promise<void>;
  /** The external write of a document (idempotent by `doc.id`); null for the built-in ledger. */
  publishDocument(doc: BillingDocument, log: Logger): Promise<ExternalPosting | null>;
  /** In the posting transaction: the document's journal entry in the ledger of record; its id. */
  recordDocument(
    trx: AnyTransaction,
    doc: BillingDocument,
    external: ExternalPosting | null,
  ): Promise<string>;
  /** In the payment's transaction: the payment in the ledger of record (idempotent by `payment.id`); the journal entry id. */
  applyPayment(trx: AnyTransaction, payment: LedgerPayment, log: Logger): Promise<string>;
  /**
   * In the transaction that applies a payment change capture saw: the crosswalk row and our journal
   * entry's id, or null when this ERP payment was applied before.
   */
  recordExternalPayment(trx: AnyTransaction, payment: ExternalPayment): Promise<string | null>;
  /**
   * For reconciliation, what the system of record really holds: the total (minor units, signed) of
   * each of our documents it has posted, by our id, among `ourIds`; absent: not there. Null for the
   * built-in ledger, whose tables are the ones reconciliation reads anyway.
   */
  postedTotals(ourIds: readonly string[]): Promise<Map<string, number> | null>;
  /**
   * For the customer-to-cash view, what the system of record says is still to pay (minor units) on
   * each of our documents it has posted, among `ourIds`, read in batches (never one call per
   * document); absent: not posted there. Null for the built-in ledger (its receivables are ours).
   */
  amountsToPay(ourIds: readonly string[]): Promise<Map<string, number> | null>;
  /** Starts change capture (an ERP that keeps its own books); `close()` stops it. */
  watch(changes: LedgerChanges, log: Logger): void;
  /** Stops background work and closes sessions. */
  close(): Promise<void>;
}
