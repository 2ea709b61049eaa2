import { isUuid } from '@c2c/platform/core';
import type { SubscriptionContext } from '../context.ts';

/** Billing contributes only `subscriptions` to the CRM's Customer; the reference is all it needs. */
export const Customer = {
  __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
  subscriptions: (customer: { id: string }, _: unknown, ctx: SubscriptionContext) =>
    isUuid(customer.id) ? ctx.loaders.subscriptionsByCustomerId.load(customer.id.toLowerCase()) : [],
};
