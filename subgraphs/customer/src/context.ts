import type { RequestContext } from '@c2c/platform/graphql';
import type { CustomerRow } from './data/customer.repository.ts';
import type { CustomerLoaders } from './data/loaders.ts';
import { isCustomerId } from './domain/customer.rules.ts';
import type { ContractValueService } from './domain/contract-value.service.ts';
import type { CustomerService } from './domain/customer.service.ts';
import type { OpportunityService } from './domain/opportunity.service.ts';
import type { OpportunityRow } from './data/opportunity.repository.ts';
import type { OrderRow } from './data/order.repository.ts';
import type { ContractChangeRow } from './data/contract-change.repository.ts';
import type { ContractChangeService } from './domain/contract-change.service.ts';

/** What a resolver reaches: services and the request's loaders, never the database itself. */
export interface CustomerContext extends RequestContext {
  loaders: CustomerLoaders;
  service: CustomerService;
  contracts: ContractValueService;
  opportunities: OpportunityService;
  contractChanges: ContractChangeService;
  /** Loads a customer by id through the request's loader; null for unknown or malformed ids. */
  loadCustomer(id: string): Promise<CustomerRow | null>;
  /** Loads an opportunity by id; null for unknown or malformed ids. */
  loadOpportunity(id: string): Promise<OpportunityRow | null>;
  /** Loads an order by id; null for unknown or malformed ids. */
  loadOrder(id: string): Promise<OrderRow | null>;
  /** Loads a contract change by id; null for unknown or malformed ids. */
  loadContractChange(id: string): Promise<ContractChangeRow | null>;
}
export { isCustomerId };
