import type { Connection } from '@c2c/platform/core';
import type { JournalEntryRow } from '../data/ledger.repository.ts';
import type { PaymentRow } from '../data/payment.repository.ts';
import type { ErpDocumentRow } from '../data/reconciliation.repository.ts';
import type { ReceivableRow } from '../data/receivable.repository.ts';

/*
 * What the resolvers hand GraphQL for each type, where it is not the type itself: named in
 * codegen.yaml as mappers, so the generated resolver types (src/generated) check parents and results.
 */

/** An entity another system owns, as the ERP knows it: its key. */
export interface EntityRef {
  id: string;
}

/** An invoice reference, with its receivable once loaded (null: the ERP has not received it yet). */
export interface InvoiceRef {
  id: string;
  receivable?: ReceivableRow | null;
}

/** A payment row; a mutation's payload carries the receivable as the payment left it. */
export type PaymentParent = PaymentRow & { receivable?: ReceivableRow | null };

export type JournalEntryPage = Connection<JournalEntryRow>;
export type ErpDocumentPage = Connection<ErpDocumentRow>;
