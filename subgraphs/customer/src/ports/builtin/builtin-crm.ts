import { DomainError } from '@c2c/platform/core';
import type { AnyDb, AnyTransaction } from '@c2c/platform/db';
import {
  countContractValues,
  findContractLine,
  findContractLines,
  findContractValue,
  findContractValuePage,
  setContractValues,
  upsertContractLines,
} from '../../data/contract.repository.ts';
import { applyLines } from './contract-lines.ts';
import {
  findChildrenByParentIds,
  findCustomerForUpdate,
  findCustomersForUpdate,
  findCustomerPage,
  findCustomersByIds,
  insertCustomer,
  updateCustomerRow,
} from '../../data/customer.repository.ts';
import {
  countWonOpportunities,
  findOpenOpportunitiesByCustomerIds,
  findOpportunitiesByIds,
  findOpportunityForUpdate,
  findWonOpportunityPage,
  insertOpportunity,
  reopenOpportunity,
  updateOpportunityRow,
} from '../../data/opportunity.repository.ts';
import type {
  AccountChanges,
  AccountPageQuery,
  ContractLine,
  ContractValue,
  CrmAccount,
  CrmOpportunity,
  CrmPort,
  NewAccount,
  NewOpportunity,
  OpportunityChanges,
} from '../crm.port.ts';

const versionConflict = (what: string, id: string, version: number) =>
  new DomainError('VERSION_CONFLICT', `${what} ${id} is no longer at version ${version}`, 'expectedVersion');

/** The built-in CRM: accounts, contract lines and opportunities in the customer subgraph's own tables. */
export class BuiltinCrm implements CrmPort {
  readonly system = 'builtin';
  readonly external = false;

  constructor(private readonly db: AnyDb) {}

  async connect(): Promise<void> {}

  /** Nothing happens behind our back in our own tables. */
  watch(): void {}

  async close(): Promise<void> {}

  async createAccount(
    trx: AnyTransaction,
    account: NewAccount,
  ): Promise<{ account: CrmAccount; created: boolean }> {
    const [earlier] = await findCustomersByIds(trx, [account.id]);
    if (earlier) return { account: earlier, created: false };
    return { account: await insertCustomer(trx, account), created: true };
  }

  async lockAccount(trx: AnyTransaction, id: string): Promise<CrmAccount | null> {
    return (await findCustomerForUpdate(trx, id)) ?? null;
  }

  async updateAccount(
    trx: AnyTransaction,
    id: string,
    changes: AccountChanges,
    version: number,
  ): Promise<CrmAccount> {
    const row = await updateCustomerRow(trx, id, changes, version);
    if (!row) throw versionConflict('customer', id, version);
    return row;
  }

  accounts(ids: readonly string[], trx?: AnyTransaction): Promise<CrmAccount[]> {
    return findCustomersByIds(trx ?? this.db, ids);
  }

  childAccounts(parentIds: readonly string[]): Promise<CrmAccount[]> {
    return findChildrenByParentIds(this.db, parentIds);
  }

  accountPage(query: AccountPageQuery): Promise<{ rows: CrmAccount[]; totalCount: number }> {
    return findCustomerPage(this.db, query);
  }

  async applyContractLines(
    trx: AnyTransaction,
    lines: readonly ContractLine[],
  ): Promise<{ written: boolean; value: ContractValue }[]> {
    if (lines.length === 0) return [];
    const customerIds = [...new Set(lines.map((line) => line.customerId))];
    // One customer's lines are summed one transaction at a time: two subscriptions' events applied
    // concurrently (different subjects, different partitions) would each sum without the other's
    // uncommitted line, and the later commit would keep a total missing one of them. Locked in id
    // order, so two batches sharing customers never wait on each other in a cycle.
    const customers = await findCustomersForUpdate(trx, customerIds);
    const stored = await findContractLines(trx, {
      customerIds,
      subscriptionIds: lines.map((line) => line.subscriptionId),
    });
    const { results, lines: changed, values } = applyLines(stored, customers, lines);
    await upsertContractLines(trx, changed);
    await setContractValues(trx, values);
    return results;
  }

  contractValue(customerId: string, trx?: AnyTransaction): Promise<ContractValue> {
    return findContractValue(trx ?? this.db, customerId);
  }

  async contractLine(
    subscriptionId: string,
    trx?: AnyTransaction,
  ): Promise<{ subscriptionId: string; customerId: string } | null> {
    const row = await findContractLine(trx ?? this.db, subscriptionId);
    return row ? { subscriptionId: row.subscription_id, customerId: row.customer_id } : null;
  }

  contractValuePage(afterId: string | null, limit: number): Promise<CrmAccount[]> {
    return findContractValuePage(this.db, afterId, limit);
  }

  contractValueCount(): Promise<number> {
    return countContractValues(this.db);
  }

  async createOpportunity(trx: AnyTransaction, opportunity: NewOpportunity): Promise<CrmOpportunity> {
    const [earlier] = await findOpportunitiesByIds(trx, [opportunity.id]);
    return earlier ?? insertOpportunity(trx, opportunity);
  }

  async lockOpportunity(trx: AnyTransaction, id: string): Promise<CrmOpportunity | null> {
    return (await findOpportunityForUpdate(trx, id)) ?? null;
  }

  async updateOpportunity(
    trx: AnyTransaction,
    id: string,
    changes: OpportunityChanges,
    version: number,
  ): Promise<CrmOpportunity> {
    const row = await updateOpportunityRow(trx, id, changes, version);
    if (!row) throw versionConflict('opportunity', id, version);
    return row;
  }

  reopenOpportunity(trx: AnyTransaction, id: string): Promise<boolean> {
    return reopenOpportunity(trx, id);
  }

  opportunities(ids: readonly string[]): Promise<CrmOpportunity[]> {
    return findOpportunitiesByIds(this.db, ids);
  }

  openOpportunities(customerIds: readonly string[]): Promise<CrmOpportunity[]> {
    return findOpenOpportunitiesByCustomerIds(this.db, customerIds);
  }

  wonOpportunityPage(afterId: string | null, limit: number): Promise<CrmOpportunity[]> {
    return findWonOpportunityPage(this.db, afterId, limit);
  }

  wonOpportunityCount(): Promise<number> {
    return countWonOpportunities(this.db);
  }
}
