import type { Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';

/*
 * The CRM's port: the accounts, the contract value written back from billing and the opportunities,
 * whichever system keeps them. The customer subgraph's domain services call it; `builtin` keeps
 * them in our own tables. The records use the column names of those tables (what the resolvers,
 * loaders and events read), so an external adapter maps its system's fields to them.
 *
 * What every adapter guarantees (docs/adapters.md, proven by test/ports/crm.conformance.ts):
 * - **Our id travels with each write.** Accounts and opportunities are created with the id the
 *   service chose (derived from the request, so a retry of the same request chooses the same id);
 *   `createAccount` / `createOpportunity` find a record carrying that id before they create one,
 *   so a retry, or a crash between the remote write and our commit, never writes twice.
 * - **Errors map to our codes**: a version that moved → `VERSION_CONFLICT`; what the system refuses
 *   → a `DomainError` with the system's own words; unreachable → an error whose message names the
 *   system (the mutation rolls back, the event is retried and then dead-lettered).
 * - **Writes run inside the use case's transaction** (`trx`): the built-in adapter writes there; an
 *   external one makes its remote call there, under the idempotency key's lock, and may keep a
 *   mirror of what it wrote in our tables in the same transaction.
 * - Reads that take an optional `trx` run in it when given (inside a use case), otherwise on the
 *   adapter's own connection (resolvers, loaders, reconciliation).
 */

export type AccountStatus = 'ACTIVE' | 'SUSPENDED' | 'CLOSED';
export type OpportunityStage = 'OPEN' | 'WON' | 'LOST';

/** An account (a customer) as the CRM of record holds it. */
export interface CrmAccount {
  id: string;
  name: string;
  email: string;
  status: AccountStatus;
  business_unit: string;
  segment: string | null;
  country: string;
  region: string | null;
  /** The parent account in the hierarchy (null at the top). */
  parent_id: string | null;
  /** Starts at 1; every update adds 1 (optimistic concurrency and event ordering). */
  version: number;
  /** The annual contract value written back from billing's subscriptions (minor units), or null. */
  contract_value_minor: number | null;
  contract_currency: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A new account, with our id. */
export type NewAccount = Omit<
  CrmAccount,
  'version' | 'created_at' | 'updated_at' | 'contract_value_minor' | 'contract_currency'
>;

/** The fields a user may change on an account. */
export type AccountChanges = Partial<
  Pick<CrmAccount, 'name' | 'email' | 'status' | 'business_unit' | 'segment' | 'country' | 'region'>
>;

export interface AccountPageQuery {
  businessUnit: string | null;
  /** The keyset position: the last (name, id) of the page before. */
  after: { name: string; id: string } | null;
  limit: number;
}

/** One subscription's contribution to its customer's contract value, as billing's event carried it. */
export interface ContractLine {
  subscriptionId: string;
  customerId: string;
  currency: string;
  annualValueMinor: number;
  active: boolean;
  /** The subscription's version: a line older than the one applied is ignored. */
  sourceVersion: number;
}

/** A customer's contract value; nulls when the customer is unknown or has no contract. */
export interface ContractValue {
  contractValueMinor: number | null;
  currency: string | null;
}

/** An opportunity as the CRM of record holds it. */
export interface CrmOpportunity {
  id: string;
  customer_id: string;
  name: string;
  plan_code: string;
  seats: number;
  start_date: string;
  stage: OpportunityStage;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** A new opportunity, with our id. */
export type NewOpportunity = Omit<CrmOpportunity, 'version' | 'created_at' | 'updated_at'>;

/** The fields of an opportunity that change (its terms while OPEN, its stage when closed). */
export type OpportunityChanges = Partial<
  Pick<CrmOpportunity, 'name' | 'plan_code' | 'seats' | 'start_date' | 'stage'>
>;

/** Where an external CRM's change feed hands what users did in that CRM: the customer subgraph's services. */
export interface CrmChanges {
  /**
   * An account changed in the CRM itself (a user edited it there): announces it to the other
   * systems as `customer.updated`, in a transaction of its own. `unknown`: the CRM does not hold it.
   */
  accountChanged(accountId: string, log: Logger): Promise<'announced' | 'unknown'>;
}

/**
 * The CRM of record. Order and contract-change records are the orchestrator's own bookkeeping and
 * stay in our tables whichever adapter is chosen (docs/adapters.md).
 */
export interface CrmPort {
  /** `builtin`, …: shown in logs and errors. */
  readonly system: string;
  /** True when another system holds the accounts (its `watch` feeds changes back); false for built-in. */
  readonly external: boolean;
  /** Checks the connection and credentials at start; throws one clear message when it cannot. */
  connect(log: Logger): Promise<void>;
  /** Starts the external CRM's change feed into `changes`; `close()` stops it. A no-op for built-in. */
  watch(changes: CrmChanges, log: Logger): void;
  /** Stops background work and closes sessions. */
  close(): Promise<void>;

  // Accounts.

  /**
   * Creates the account under our id (`account.id`), or answers the account already carrying that
   * id (a retry of the same request) with `created: false`. The parent, if any, has been checked
   * by the service.
   */
  createAccount(trx: AnyTransaction, account: NewAccount): Promise<{ account: CrmAccount; created: boolean }>;
  /** Reads the account and keeps others from changing it until `trx` ends; null when unknown. */
  lockAccount(trx: AnyTransaction, id: string): Promise<CrmAccount | null>;
  /**
   * Applies `changes` if the account is still at `version` and answers it at version + 1;
   * `VERSION_CONFLICT` (nothing written) when it moved.
   */
  updateAccount(
    trx: AnyTransaction,
    id: string,
    changes: AccountChanges,
    version: number,
  ): Promise<CrmAccount>;
  /** The accounts among `ids` (any order; unknown ids are absent): one call for a whole batch. */
  accounts(ids: readonly string[], trx?: AnyTransaction): Promise<CrmAccount[]>;
  /** The children of many parents in the hierarchy, by (name, id): one call for a whole batch. */
  childAccounts(parentIds: readonly string[]): Promise<CrmAccount[]>;
  /** One page of accounts by (name, id), optionally of one business unit, and the filter's count. */
  accountPage(query: AccountPageQuery): Promise<{ rows: CrmAccount[]; totalCount: number }>;

  // Contract value written back from billing.

  /**
   * Applies subscriptions' contract lines in their order (one, or a batch of events') and
   * recomputes their customers' contract values (the sum of the active lines): idempotent, and a
   * line whose `sourceVersion` is not newer than the one applied changes nothing. For each line,
   * as if applied one after the other: whether it was written (false when stale) and its
   * customer's contract value right after it.
   */
  applyContractLines(
    trx: AnyTransaction,
    lines: readonly ContractLine[],
  ): Promise<{ written: boolean; value: ContractValue }[]>;
  /** A customer's contract value, exact to the minor unit. */
  contractValue(customerId: string, trx?: AnyTransaction): Promise<ContractValue>;
  /** Which customer a subscription's contract line belongs to; null when the CRM has none. */
  contractLine(
    subscriptionId: string,
    trx?: AnyTransaction,
  ): Promise<{ subscriptionId: string; customerId: string } | null>;
  /** Reconciliation: accounts with a contract value, by id, after the keyset position. */
  contractValuePage(afterId: string | null, limit: number): Promise<CrmAccount[]>;
  /** Reconciliation: how many accounts have a contract value. */
  contractValueCount(): Promise<number>;

  // Opportunities.

  /** Creates the opportunity under our id, or answers the one already carrying that id. */
  createOpportunity(trx: AnyTransaction, opportunity: NewOpportunity): Promise<CrmOpportunity>;
  /** Reads the opportunity and keeps others from changing it until `trx` ends; null when unknown. */
  lockOpportunity(trx: AnyTransaction, id: string): Promise<CrmOpportunity | null>;
  /** As `updateAccount`: at `version` or `VERSION_CONFLICT`; marking WON or LOST is a change of stage. */
  updateOpportunity(
    trx: AnyTransaction,
    id: string,
    changes: OpportunityChanges,
    version: number,
  ): Promise<CrmOpportunity>;
  /** A WON opportunity whose order was rejected turns OPEN again (version + 1); false if it was not WON. */
  reopenOpportunity(trx: AnyTransaction, id: string): Promise<boolean>;
  /** The opportunities among `ids`: one call for a whole batch. */
  opportunities(ids: readonly string[]): Promise<CrmOpportunity[]>;
  /** The OPEN opportunities of many accounts, newest first: one call for a whole batch. */
  openOpportunities(customerIds: readonly string[]): Promise<CrmOpportunity[]>;
  /** Reconciliation: WON opportunities by id after the keyset position. */
  wonOpportunityPage(afterId: string | null, limit: number): Promise<CrmOpportunity[]>;
  /** Reconciliation: how many opportunities are WON. */
  wonOpportunityCount(): Promise<number>;
}
