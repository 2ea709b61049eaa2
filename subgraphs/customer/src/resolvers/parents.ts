import type { Connection } from '@c2c/platform/core';
import type { CustomerRow } from '../data/customer.repository.ts';
import type { OpportunityRow } from '../data/opportunity.repository.ts';
import type { OrderRow } from '../data/order.repository.ts';

/*
 * What the resolvers hand GraphQL for each type, where it is not the type itself: named in
 * codegen.yaml as mappers, so the generated resolver types (src/generated) check parents and results.
 */

/** A page of customers (a CustomerConnection, CrmContractValueConnection): rows, totalCount lazy. */
export type CustomerPage = Connection<CustomerRow>;

/** A page of opportunities (reconciliation). */
export type OpportunityPage = Connection<OpportunityRow>;

/** A page of orders (the ops console). */
export type OrderPage = Connection<OrderRow>;

/** An entity another system owns, as the CRM knows it: its key. */
export interface EntityRef {
  id: string;
}
