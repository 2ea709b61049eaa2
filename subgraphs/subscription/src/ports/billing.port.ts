import type { Insertable } from 'kysely';
import type { IsoDate, Logger, Period } from '@c2c/platform/core';
import type { AnyDb, AnyTransaction } from '@c2c/platform/db';
import type { BillToRow } from '../data/bill-to.repository.ts';
import type { InvoiceLineRow, InvoiceRow, RankedInvoiceRow } from '../data/invoice.repository.ts';
import type { PlanRow } from '../data/plan.repository.ts';
import type {
  LockedSubscription,
  SubscriptionChange,
  SubscriptionRow,
} from '../data/subscription.repository.ts';
import type { BillToAccountTable, InvoiceKind, PlanTable } from '../data/tables.ts';
import type { TaxRateRow } from '../data/tax-rate.repository.ts';
import type { LineDraft } from '../domain/invoice.rules.ts';
import type { ProrationDraft } from '../domain/invoicing.ts';

export type { LockedSubscription, SubscriptionChange };

/** An invoice or credit note as the platform issued it, with its lines in order. */
export interface IssuedDocument {
  invoice: InvoiceRow;
  lines: InvoiceLineRow[];
}

/** A plan as the catalog use case validated it. */
export type NewPlan = Omit<Insertable<PlanTable>, 'created_at'>;

/** The bill-to customer as the CRM announced it (`customer.*`), at a version. */
export type CustomerRecord = Omit<Insertable<BillToAccountTable>, 'updated_at'>;

/** A subscription to open at the plan's terms, with its first period invoiced in advance. */
export interface OpenSubscriptionRequest {
  /** Our ids: the subscription's and its first invoice's (the platform keeps them with its own). */
  subscriptionId: string;
  invoiceId: string;
  billTo: BillToRow;
  plan: PlanRow;
  seats: number;
  startDate: IsoDate;
  issuedOn: IsoDate;
  dueOn: IsoDate;
  /** Dated rates of (at least) the bill-to country, from our tax table. */
  rates: readonly TaxRateRow[];
}

/** The proration an amendment bills over [effectiveDate, period end): from → to seats. */
export interface ProrationRequest {
  /** Our id for the proration invoice or credit note, if one is issued. */
  documentId: string;
  planName: string;
  seatsBefore: number;
  seatsAfter: number;
  effectiveDate: IsoDate;
  issuedOn: IsoDate;
  dueOn: IsoDate;
  rates: readonly TaxRateRow[];
}

/** One decided change of a subscription: the change our rules decided, and what it prorates. */
export interface SubscriptionAmendmentRequest {
  /** Our amendment's id (the platform's idempotency key for this change). */
  amendmentId: string;
  /** The subscription as read under lock before the change; its `version` guards the write. */
  subscription: SubscriptionRow;
  billTo: BillToRow;
  change: SubscriptionChange;
  /** Null: nothing is prorated (a change scheduled for the renewal, a cancellation at period end). */
  proration: ProrationRequest | null;
}

/** What an amendment did in the platform: the subscription after it and its document (if any). */
export interface AmendedSubscription {
  subscription: SubscriptionRow;
  /** Null when nothing was prorated or the proration rounds to zero. */
  document: IssuedDocument | null;
  /** The document's subtotal (signed, minor units); 0 when the proration rounded to zero. */
  prorationMinor: number;
}

/** What a proration would issue, computed without writing (the preview). */
export interface AmendmentPreviewRequest {
  subscription: SubscriptionRow;
  billTo: BillToRow;
  proration: Omit<ProrationRequest, 'documentId'>;
}

/** One period's renewal: the subscription moves to period `index` and the period is invoiced. */
export interface RenewalRequest {
  subscription: SubscriptionRow;
  index: number;
  period: Period;
  /** Our id of the period invoice (usage we rated is claimed for it before it is issued). */
  invoiceId: string;
  planName: string;
  billTo: BillToRow;
  rates: readonly TaxRateRow[];
  issuedOn: IsoDate;
  dueOn: IsoDate;
  /** Lines after the seat line (usage we rated, in arrears), given the invoice's tax rate. */
  extraLines?: (ratePpm: number) => LineDraft[];
}

/** A document of lines we drafted (a usage-only invoice of a cancelled subscription). */
export interface DocumentRequest {
  kind: InvoiceKind;
  invoiceId: string;
  subscription: SubscriptionRow;
  billTo: BillToRow;
  issuedOn: IsoDate;
  dueOn: IsoDate;
  /** No tax rate matched the bill-to address: taxed at 0 and flagged. */
  rateMissing: boolean;
  lines: readonly LineDraft[];
}

/** Where an external platform's change feed hands what it saw: the billing subgraph's services. */
export interface BillingChanges {
  /**
   * An invoice the platform itself collected (a card charge, its dunning) is paid in full: billing
   * marks it PAID, in a transaction of its own, idempotently; false when it is unknown or not open.
   */
  invoicePaid(invoiceId: string, log: Logger): Promise<boolean>;
}

/**
 * The billing platform's port: the system of record of plans, bill-to customers, subscriptions,
 * invoices and credit notes, whichever system keeps them. The billing subgraph's domain services
 * and loaders call it; `builtin` keeps them in our own tables (today's billing engine). An external
 * adapter (Stripe, Zuora, Chargebee …) must:
 *
 * - **carry our id with every write** (the subscription's, the document's, the amendment's as the
 *   platform's idempotency key or metadata) and find before it creates, so a retry finds the
 *   earlier write instead of making a second;
 * - **answer in our shape and to the cent**: the rows below, amounts in minor units, tax per line
 *   HALF_UP at the rates we pass (our tax table), a proration exactly as DOMAIN's rule computes it
 *   (`domain/proration.ts`); when the platform cannot, send our lines as they are or refuse;
 * - **map refusals to our codes** (`DomainError`: `PLAN_CODE_TAKEN`, …; an unreachable platform:
 *   `BILLING_UNAVAILABLE`, a refusal: `BILLING_REFUSED`, with the platform's own words), writing
 *   nothing here.
 *
 * Our own bookkeeping never goes through it: idempotency records, the outbox, the amendment
 * business transaction and its steps, order records, usage ingestion and rating, reconciliation
 * and monitors stay in `domain/` → `data/` (docs/adapters.md, "What stays ours").
 *
 * Methods taking `trx` run inside the use case's transaction (the built-in adapter writes there,
 * so the change, our bookkeeping and the outbox commit together); a method taking `db` reads with
 * the root pool or the caller's transaction. Batch reads answer only what they found, in any order.
 */
export interface BillingPort {
  /** `builtin`, `stripe`, …: shown in logs. */
  readonly system: string;
  /** True when another system keeps the records; false for the built-in tables (ours). */
  readonly external: boolean;
  /** Checks the connection and credentials at start; throws one clear message when it cannot. */
  connect(log: Logger): Promise<void>;

  // ── Plans (the catalog) ────────────────────────────────────────────────────────────────────
  /** Creates a plan under its code (the platform's product/price id or lookup key); null: taken. */
  createPlan(trx: AnyTransaction, plan: NewPlan): Promise<PlanRow | null>;
  plansByCodes(db: AnyDb, codes: readonly string[]): Promise<PlanRow[]>;
  /** The whole catalog, by code. */
  allPlans(db: AnyDb): Promise<PlanRow[]>;

  // ── The bill-to customer ───────────────────────────────────────────────────────────────────
  /**
   * Applies the CRM's customer at its version (the platform's customer, keyed by our id); false
   * when this or a newer version is already there.
   */
  applyCustomer(trx: AnyTransaction, customer: CustomerRecord): Promise<boolean>;
  customersByIds(db: AnyDb, ids: readonly string[]): Promise<BillToRow[]>;
  /**
   * The customer, held so that one customer's subscriptions are opened one at a time (the
   * currency and eligibility rules); undefined when the platform has no such customer.
   */
  lockCustomer(trx: AnyTransaction, id: string): Promise<BillToRow | undefined>;

  // ── Subscriptions ──────────────────────────────────────────────────────────────────────────
  subscriptionsByIds(db: AnyDb, ids: readonly string[]): Promise<SubscriptionRow[]>;
  /** Subscriptions of many customers, oldest first. */
  subscriptionsByCustomerIds(db: AnyDb, customerIds: readonly string[]): Promise<SubscriptionRow[]>;
  /** The currencies a customer is billed in (one currency per customer). */
  customerCurrencies(db: AnyDb, customerId: string): Promise<string[]>;
  /** Active subscriptions of one customer to one plan (an order's eligibility check). */
  countActiveSubscriptions(db: AnyDb, customerId: string, planCode: string): Promise<number>;
  /**
   * One subscription held for an amendment (amendments of a subscription take turns), with its
   * bill-to customer and plan as they are; undefined when there is no such subscription.
   */
  lockSubscription(trx: AnyTransaction, id: string): Promise<LockedSubscription | undefined>;
  /** Active subscriptions whose current period ended by `asOf`, held for the billing run. */
  lockDueSubscriptions(trx: AnyTransaction, asOf: IsoDate): Promise<SubscriptionRow[]>;
  /**
   * Cancelled subscriptions that still have usage we have not invoiced (our usage periods),
   * held for the billing run.
   */
  lockEndedWithUnbilledUsage(trx: AnyTransaction): Promise<SubscriptionRow[]>;
  /** Opens a subscription (version 1, period 0) and issues its first period invoice. */
  openSubscription(
    trx: AnyTransaction,
    request: OpenSubscriptionRequest,
  ): Promise<{ subscription: SubscriptionRow; invoice: IssuedDocument }>;
  /**
   * A seat change (or a change scheduled for the renewal): applies it, bumping the version (a
   * stale `subscription.version` fails loudly), and issues the proration invoice (more seats) or
   * credit note (fewer; tax reversed at the rate each credited seat was billed at).
   */
  amendSeats(trx: AnyTransaction, request: SubscriptionAmendmentRequest): Promise<AmendedSubscription>;
  /** A cancellation, at period end (scheduled) or immediately (credited), as `amendSeats`. */
  cancelSubscription(
    trx: AnyTransaction,
    request: SubscriptionAmendmentRequest,
  ): Promise<AmendedSubscription>;
  /**
   * The proration document an amendment would issue now, exactly (lines, tax, total), writing
   * nothing anywhere; null when it rounds to zero. An external adapter computes it by our rule or
   * asks the platform's preview and refuses a result that differs by a cent.
   */
  previewAmendment(db: AnyDb, request: AmendmentPreviewRequest): Promise<ProrationDraft | null>;
  /** Renews one period: moves the subscription on (applying scheduled seats) and invoices it. */
  renewSubscription(
    trx: AnyTransaction,
    request: RenewalRequest,
  ): Promise<{ subscription: SubscriptionRow; invoice: IssuedDocument }>;

  // ── Invoices and credit notes ──────────────────────────────────────────────────────────────
  /** Issues a document of the lines we drafted (numbered by the platform: INV-…, CN-…). */
  issueDocument(trx: AnyTransaction, request: DocumentRequest): Promise<IssuedDocument>;
  invoicesByIds(db: AnyDb, ids: readonly string[]): Promise<InvoiceRow[]>;
  /** Lines of many documents, by document and line number. */
  linesByInvoiceIds(db: AnyDb, invoiceIds: readonly string[]): Promise<InvoiceLineRow[]>;
  /**
   * One page of documents per subscription, newest first (see `findInvoicePages`): `seq` is the
   * issue order. An external adapter keeps a mirror of what it issued to answer this in one read.
   */
  invoicePages(
    db: AnyDb,
    subscriptionIds: readonly string[],
    limit: number,
    afterSeq: number | null,
  ): Promise<RankedInvoiceRow[]>;
  /** The ERP posted a document; false when the platform has no such document. */
  recordPosted(
    trx: AnyTransaction,
    ack: { invoiceId: string; journalEntryId: string; postedAt: Date },
  ): Promise<boolean>;
  /** The ERP refused a document; never overrides a posting already recorded. False: nothing changed. */
  recordPostingFailed(trx: AnyTransaction, invoiceId: string, error: string): Promise<boolean>;
  /** The ERP says the document is paid in full: OPEN → PAID; false when unknown or not OPEN. */
  markPaid(trx: AnyTransaction, invoiceId: string): Promise<boolean>;

  // ── The platform's own changes ─────────────────────────────────────────────────────────────
  /**
   * Starts the platform's change feed (its webhooks or change export), handing what it saw to
   * `changes`; `close()` stops it. Nothing for the built-in adapter: our outbox is its feed.
   */
  watch(changes: BillingChanges, log: Logger): void;
  /** Stops background work and closes sessions. */
  close(): Promise<void>;
}
