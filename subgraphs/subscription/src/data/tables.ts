import type { Generated, Kysely } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';

export type BillingPeriod = 'MONTH' | 'YEAR';
export type SubscriptionStatus = 'ACTIVE' | 'CANCELLED';
export type InvoiceKind = 'INVOICE' | 'CREDIT_NOTE';
export type InvoiceStatus = 'OPEN' | 'PAID' | 'VOID';
export type PostingStatus = 'PENDING' | 'POSTED' | 'FAILED';

export interface PlanTable {
  code: string;
  name: string;
  billing_period: BillingPeriod;
  unit_price_minor: number;
  currency: string;
  min_seats: number;
  max_seats: number;
  /** Metered prices as entered (`UsagePriceDefinition[]` as JSON); null for a seat-only plan. */
  usage_prices: Generated<unknown>;
  created_at: Generated<Date>;
}

export interface BillToAccountTable {
  id: string;
  name: string;
  email: string;
  status: string;
  business_unit: string;
  country: string;
  region: string | null;
  /** The bill-to parent in the CRM's hierarchy (null until a customer event after migration 0006 says). */
  parent_id: Generated<string | null>;
  version: number;
  updated_at: Generated<Date>;
}

export interface OrderSubscriptionTable {
  order_id: string;
  opportunity_id: string;
  subscription_id: string;
  plan_code: string;
  seats: number;
  start_date: string;
  created_at: Generated<Date>;
}

export interface SubscriptionTable {
  id: string;
  customer_id: string;
  plan_code: string;
  billing_period: BillingPeriod;
  unit_price_minor: number;
  currency: string;
  status: SubscriptionStatus;
  seats: number;
  version: Generated<number>;
  start_date: string;
  period_index: Generated<number>;
  current_period_start: string;
  current_period_end: string;
  /** Seat count that takes effect at the next renewal (an amendment effective on the period end). */
  pending_seats: Generated<number | null>;
  /** Period end on which the billing run cancels instead of renewing. */
  cancel_at: Generated<string | null>;
  cancelled_on: Generated<string | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type AmendmentKind = 'SEATS' | 'CANCELLATION' | 'RENEWAL';
export type AmendmentStatus = 'ACCEPTED' | 'INVOICED' | 'POSTED' | 'COMPLETED' | 'EXCEPTION';
export type WorkflowSystem = 'BILLING' | 'ERP' | 'CRM';
export type StepStatus = 'PENDING' | 'DONE' | 'FAILED' | 'SKIPPED';

export interface AmendmentTable {
  id: string;
  seq: Generated<number>;
  subscription_id: string;
  kind: AmendmentKind;
  status: AmendmentStatus;
  correlation_id: string;
  effective_date: string;
  scheduled: boolean;
  seats_before: number;
  seats_after: number;
  proration_minor: number | null;
  currency: string;
  invoice_id: string | null;
  subscription_version: number;
  reason: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AmendmentStepTable {
  amendment_id: string;
  system: WorkflowSystem;
  status: StepStatus;
  attempts: number;
  last_error: string | null;
  completed_at: Date | null;
  updated_at: Generated<Date>;
}

export interface InvoiceTable {
  id: string;
  seq: Generated<number>;
  number: string;
  kind: InvoiceKind;
  status: Generated<InvoiceStatus>;
  customer_id: string;
  subscription_id: string;
  business_unit: string;
  currency: string;
  issued_on: string;
  due_on: string;
  subtotal_minor: number;
  tax_minor: number;
  total_minor: number;
  tax_rate_missing: boolean;
  posting_status: Generated<PostingStatus>;
  journal_entry_id: string | null;
  posted_at: Date | null;
  posting_error: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface InvoiceLineTable {
  id: string;
  invoice_id: string;
  line_no: number;
  description: string;
  quantity: number;
  unit_price_minor: number;
  amount_minor: number;
  tax_rate_ppm: number;
  tax_minor: number;
  period_start: string;
  period_end: string;
  /** Usage lines only: the metric, the exact quantity in the tier and the tier's unit price. */
  usage_metric: Generated<string | null>;
  usage_quantity: Generated<string | null>;
  usage_unit_price: Generated<string | null>;
  usage_adjustment: Generated<boolean | null>;
}

export interface UsageEventTable {
  id: string;
  subscription_id: string;
  metric: string;
  /** Exact quantity in micro-units (10^-6), at most 10^15 (below 2^53). */
  quantity_micro: number;
  occurred_at: Date;
  received_at: Generated<Date>;
  period_start: string;
  period_end: string;
  late: boolean;
}

/** What billing refused of a usage message from the event backbone (migration 0008). */
export interface UsageRejectedEventTable {
  message_key: string;
  /** The event's index in the message, or -1 for the whole message. */
  event_index: number;
  source: string | null;
  batch_id: string | null;
  event_id: string | null;
  code: string;
  field: string | null;
  message: string;
  payload: string | null;
  received_at: Generated<Date>;
}

export interface UsagePeriodTable {
  subscription_id: string;
  period_start: string;
  period_end: string;
  metric: string;
  /** numeric: always selected as text. */
  quantity_micro: string;
  event_count: number;
  last_event_at: Date;
  billed_quantity_micro: Generated<string>;
  billed_amount_minor: Generated<number>;
  invoiced: Generated<boolean>;
}

export interface UsageChargeTable {
  invoice_id: string;
  subscription_id: string;
  period_start: string;
  period_end: string;
  metric: string;
  /** numeric: always selected as text (a period's total may pass 2^53). */
  quantity_micro: string;
  amount_minor: number;
  adjustment: boolean;
}

export interface TaxRateTable {
  id: Generated<number>;
  country: string;
  region: string | null;
  rate_ppm: number;
  valid_from: string;
  valid_to: string | null;
}

export interface SubscriptionDatabase {
  plan: PlanTable;
  bill_to_account: BillToAccountTable;
  subscription: SubscriptionTable;
  invoice: InvoiceTable;
  invoice_line: InvoiceLineTable;
  tax_rate: TaxRateTable;
  amendment: AmendmentTable;
  amendment_step: AmendmentStepTable;
  order_subscription: OrderSubscriptionTable;
  usage_event: UsageEventTable;
  usage_charge: UsageChargeTable;
  usage_period: UsagePeriodTable;
  usage_rejected_event: UsageRejectedEventTable;
}

export type SubscriptionDb = Kysely<SubscriptionDatabase>;

/** The database schema this subgraph owns. */
export const SCHEMA = 'subscription';

/** Narrows a connection or transaction to this subgraph's schema. */
export function scoped(db: AnyDb): SubscriptionDb {
  return db.withSchema(SCHEMA) as unknown as SubscriptionDb;
}
