import { DomainError, toUserError } from '@c2c/platform/core';
import type { CreateCustomerCommand, UpdateCustomerCommand } from '../domain/customer.service.ts';
import type { CustomerContext } from '../context.ts';

/** Runs a use case and maps its domain errors, once, to `userErrors`. */
async function payload<T>(work: () => Promise<T>, onSuccess: (value: T) => Promise<Record<string, unknown>>) {
  try {
    return { ...(await onSuccess(await work())), userErrors: [] };
  } catch (error) {
    if (error instanceof DomainError) return { customer: null, userErrors: [toUserError(error)] };
    throw error;
  }
}

export const Mutation = {
  createCustomer: (_: unknown, args: { input: CreateCustomerCommand }, ctx: CustomerContext) =>
    payload(
      () => ctx.service.createCustomer(args.input, ctx),
      async ({ customerId }) => ({ customer: await ctx.loadCustomer(customerId) }),
    ),
  updateCustomer: (_: unknown, args: { input: UpdateCustomerCommand }, ctx: CustomerContext) =>
    payload(
      () => ctx.service.updateCustomer(args.input, ctx),
      async ({ customerId }) => ({ customer: await ctx.loadCustomer(customerId) }),
    ),
};
