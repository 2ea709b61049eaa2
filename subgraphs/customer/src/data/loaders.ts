import type { AnyDb } from '@c2c/platform/db';
import { byKeyLoader, groupedLoader } from '@c2c/platform/graphql';
import type { CrmPort } from '../ports/crm.port.ts';
import { findContractChangesByCustomerIds, findContractChangesByIds } from './contract-change.repository.ts';
import {
  findChecksByOrderIds,
  findOrdersByIds,
  findOrdersByOpportunityIds,
  findStepsByOrderIds,
} from './order.repository.ts';

/**
 * Per-request loaders: one read per entity type per request, whatever the list size. Accounts and
 * opportunities come from the CRM of record (one batch call to the port); orders and contract
 * changes are our own bookkeeping, read from our tables.
 */
export function createCustomerLoaders(crm: CrmPort, db: AnyDb) {
  return {
    customerById: byKeyLoader(
      (ids: readonly string[]) => crm.accounts(ids),
      (row) => row.id,
    ),
    childrenByParentId: groupedLoader(
      (ids: readonly string[]) => crm.childAccounts(ids),
      (row) => row.parent_id as string,
    ),
    opportunityById: byKeyLoader(
      (ids: readonly string[]) => crm.opportunities(ids),
      (row) => row.id,
    ),
    openOpportunitiesByCustomerId: groupedLoader(
      (ids: readonly string[]) => crm.openOpportunities(ids),
      (row) => row.customer_id,
    ),
    orderById: byKeyLoader(
      (ids: readonly string[]) => findOrdersByIds(db, ids),
      (row) => row.id,
    ),
    orderByOpportunityId: byKeyLoader(
      (ids: readonly string[]) => findOrdersByOpportunityIds(db, ids),
      (row) => row.opportunity_id,
    ),
    checksByOrderId: groupedLoader(
      (ids: readonly string[]) => findChecksByOrderIds(db, ids),
      (row) => row.order_id,
    ),
    contractChangeById: byKeyLoader(
      (ids: readonly string[]) => findContractChangesByIds(db, ids),
      (row) => row.id,
    ),
    contractChangesByCustomerId: groupedLoader(
      (ids: readonly string[]) => findContractChangesByCustomerIds(db, ids),
      (row) => row.customer_id,
    ),
    stepsByOrderId: groupedLoader(
      (ids: readonly string[]) => findStepsByOrderIds(db, ids),
      (row) => row.order_id,
    ),
  };
}

export type CustomerLoaders = ReturnType<typeof createCustomerLoaders>;
