import type { Generated, Kysely } from 'kysely';

export interface CustomerTable {
  id: string;
  name: string;
  email: string;
  status: 'ACTIVE' | 'SUSPENDED' | 'CLOSED';
  business_unit: string;
  segment: string | null;
  country: string;
  region: string | null;
  parent_id: string | null;
  version: Generated<number>;
  contract_value_minor: number | null;
  contract_currency: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ContractLineTable {
  subscription_id: string;
  customer_id: string;
  currency: string;
  annual_value_minor: number;
  active: boolean;
  source_version: number;
  updated_at: Generated<Date>;
}

export type OpportunityStage = 'OPEN' | 'WON' | 'LOST';

export interface OpportunityTable {
  id: string;
  customer_id: string;
  name: string;
  plan_code: string;
  seats: number;
  start_date: string;
  stage: OpportunityStage;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type OrderStatus =
  'VALIDATING' | 'REJECTED' | 'SUBSCRIBED' | 'INVOICED' | 'POSTED' | 'COMPLETED' | 'EXCEPTION';
export type OrderCheckName = 'ACCOUNT_HIERARCHY' | 'PRICING' | 'TAX_CONTEXT' | 'ELIGIBILITY';
export type OrderSystem = 'BILLING' | 'ERP' | 'CRM';
export type OrderStepStatus = 'PENDING' | 'DONE' | 'FAILED' | 'SKIPPED';

export interface SalesOrderTable {
  id: string;
  opportunity_id: string;
  customer_id: string;
  status: OrderStatus;
  rejected: Generated<boolean>;
  correlation_id: string;
  subscription_id: string | null;
  first_invoice_id: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface OrderCheckTable {
  order_id: string;
  name: OrderCheckName;
  status: 'PASSED' | 'FAILED';
  message: string;
}

export interface OrderStepTable {
  order_id: string;
  system: OrderSystem;
  status: OrderStepStatus;
  attempts: number;
  last_error: string | null;
  completed_at: Date | null;
  updated_at: Generated<Date>;
}

export type ContractChangeStatus = 'REQUESTED' | 'ACCEPTED' | 'REFUSED';

export interface ContractChangeTable {
  id: string;
  customer_id: string;
  subscription_id: string;
  seats: number;
  effective_date: string;
  reason: string | null;
  status: ContractChangeStatus;
  correlation_id: string;
  amendment_id: string | null;
  refusal_code: string | null;
  refusal_message: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CustomerDatabase {
  customer: CustomerTable;
  contract_line: ContractLineTable;
  opportunity: OpportunityTable;
  sales_order: SalesOrderTable;
  order_check: OrderCheckTable;
  order_step: OrderStepTable;
  contract_change: ContractChangeTable;
}

export type CustomerDb = Kysely<CustomerDatabase>;

/** The database schema this subgraph owns. */
export const SCHEMA = 'customer';
