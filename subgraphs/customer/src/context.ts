import type { AnyDb } from '@c2c/platform/db';
import type { RequestContext } from '@c2c/platform/graphql';
import type { CustomerRow } from './data/customer.repository.ts';
import type { CustomerLoaders } from './data/loaders.ts';
import { isCustomerId } from './domain/customer.rules.ts';
import type { CustomerService } from './domain/customer.service.ts';

export interface CustomerContext extends RequestContext {
  db: AnyDb;
  loaders: CustomerLoaders;
  service: CustomerService;
  /** Loads a customer by id through the request's loader; null for unknown or malformed ids. */
  loadCustomer(id: string): Promise<CustomerRow | null>;
}
export { isCustomerId };
