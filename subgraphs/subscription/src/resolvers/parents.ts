import type { Connection } from '@c2c/platform/core';
import type { AmendmentRow } from '../data/amendment.repository.ts';
import type { InvoiceLineRow, InvoiceRow } from '../data/invoice.repository.ts';
import type { OrderSubscriptionRow } from '../data/order.repository.ts';
import type {
  BucketDocumentRow,
  ContractValueRow,
  StuckAmendmentRow,
} from '../data/reconciliation.repository.ts';

/*
 * What the resolvers hand GraphQL for each type, where it is not the type itself: named in
 * codegen.yaml as mappers, so the generated resolver types (src/generated) check parents and results.
 */

/** An entity another system owns, as billing knows it: its key. */
export interface EntityRef {
  id: string;
}

/** A CRM opportunity as the gateway hands it to billing: its key and the fields `expectedValue` requires. */
export interface OpportunityRef {
  id: string;
  planCode?: string;
  seats?: number;
}

/** An amendment; a mutation's payload carries the document as it was issued, a query loads it. */
export type AmendmentView = AmendmentRow & { document?: InvoiceRow | null };

/** An invoice line's priced columns with its invoice's currency (a stored line, or a preview's draft). */
export type PricedLine = Omit<InvoiceLineRow, 'id' | 'invoice_id' | 'line_no'> & { currency: string };

export type InvoicePage = Connection<InvoiceRow>;
export type AmendmentPage = Connection<AmendmentRow>;
export type BillingDocumentPage = Connection<BucketDocumentRow>;
export type ContractValuePage = Connection<ContractValueRow>;
export type StuckAmendmentPage = Connection<StuckAmendmentRow>;
export type OrderSubscriptionPage = Connection<OrderSubscriptionRow>;
