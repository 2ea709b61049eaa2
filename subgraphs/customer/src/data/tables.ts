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

export interface CustomerDatabase {
  customer: CustomerTable;
  contract_line: ContractLineTable;
}

export type CustomerDb = Kysely<CustomerDatabase>;

/** The database schema this subgraph owns. */
export const SCHEMA = 'customer';
