import type { Generated, Kysely } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';

export interface CustomerMasterTable {
  id: string;
  name: string;
  status: string;
  business_unit: string;
  country: string;
  region: string | null;
  version: number;
  updated_at: Generated<Date>;
}

export interface ContractTable {
  subscription_id: string;
  customer_id: string;
  plan_code: string;
  billing_period: string;
  status: string;
  seats: number;
  unit_price_minor: number;
  currency: string;
  start_date: string;
  period_start: string | null;
  period_end: string | null;
  version: number;
  updated_at: Generated<Date>;
}

export type DocumentKind = 'INVOICE' | 'CREDIT_NOTE';
export type PostingStatus = 'PENDING' | 'POSTED' | 'FAILED';

export interface ReceivableTable {
  invoice_id: string;
  number: string;
  kind: DocumentKind;
  customer_id: string;
  subscription_id: string | null;
  business_unit: string;
  currency: string;
  issued_on: string;
  due_on: string;
  subtotal_minor: number;
  tax_minor: number;
  total_minor: number;
  amount_due_minor: number;
  posting_status: Generated<PostingStatus>;
  journal_entry_id: string | null;
  posted_at: Date | null;
  posting_error: string | null;
  created_at: Generated<Date>;
}

export type LedgerAccount = 'ACCOUNTS_RECEIVABLE' | 'DEFERRED_REVENUE' | 'REVENUE' | 'TAX_PAYABLE' | 'CASH';
export type EntrySide = 'DEBIT' | 'CREDIT';

export interface JournalEntryTable {
  id: string;
  entry_date: string;
  memo: string;
  source_type: string;
  source_id: string;
  created_at: Generated<Date>;
}

export interface JournalLineTable {
  entry_id: string;
  line_no: number;
  account: LedgerAccount;
  side: EntrySide;
  amount_minor: number;
  currency: string;
}

export interface RevenueScheduleTable {
  invoice_id: string;
  line_id: string;
  subscription_id: string | null;
  month: string;
  amount_minor: number;
  currency: string;
  recognized: Generated<boolean>;
}

export interface PaymentTable {
  id: string;
  invoice_id: string;
  amount_minor: number;
  currency: string;
  received_on: string;
  reference: string | null;
  journal_entry_id: string;
  created_at: Generated<Date>;
}

export interface CreditAllocationTable {
  credit_note_id: string;
  invoice_id: string;
  amount_minor: number;
  currency: string;
  created_at: Generated<Date>;
}

export interface ErpCrosswalkTable {
  system: string;
  kind: 'INVOICE' | 'CREDIT_NOTE' | 'PAYMENT' | 'CUSTOMER';
  our_id: string;
  erp_id: string;
  erp_number: string | null;
  erp_entry_id: string | null;
  created_at: Generated<Date>;
}

export interface ErpCursorTable {
  system: string;
  name: string;
  position: string | null;
  lease_owner: string | null;
  lease_until: Date | null;
  updated_at: Generated<Date>;
}

export interface FinanceDatabase {
  customer_master: CustomerMasterTable;
  contract: ContractTable;
  receivable: ReceivableTable;
  journal_entry: JournalEntryTable;
  journal_line: JournalLineTable;
  revenue_schedule: RevenueScheduleTable;
  payment: PaymentTable;
  credit_allocation: CreditAllocationTable;
  erp_crosswalk: ErpCrosswalkTable;
  erp_cursor: ErpCursorTable;
}

export type FinanceDb = Kysely<FinanceDatabase>;

/** The database schema this subgraph owns. */
export const SCHEMA = 'finance';

/** Narrows a connection or transaction to this subgraph's schema. */
export function scoped(db: AnyDb): FinanceDb {
  return db.withSchema(SCHEMA) as unknown as FinanceDb;
}
