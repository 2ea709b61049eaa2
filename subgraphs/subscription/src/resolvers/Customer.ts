import { isUuid } from '@c2c/platform/core';
import type { CustomerResolvers } from '../generated/resolvers.ts';

/** Billing contributes only `subscriptions` to the CRM's Customer; the reference is all it needs. */
export const Customer: CustomerResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  subscriptions: (customer, _, ctx) =>
    isUuid(customer.id) ? ctx.loaders.subscriptionsByCustomerId.load(customer.id.toLowerCase()) : [],
};
