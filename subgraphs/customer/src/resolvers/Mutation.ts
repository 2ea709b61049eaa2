import { mutationPayload } from '@c2c/platform/graphql';
import type { CreateCustomerCommand, UpdateCustomerCommand } from '../domain/customer.service.ts';
import type { CustomerContext } from '../context.ts';

export const Mutation = {
  createCustomer: (_: unknown, args: { input: CreateCustomerCommand }, ctx: CustomerContext) =>
    mutationPayload(
      { customer: null },
      () => ctx.service.createCustomer(args.input, ctx),
      async ({ customerId }) => ({ customer: await ctx.loadCustomer(customerId) }),
    ),
  updateCustomer: (_: unknown, args: { input: UpdateCustomerCommand }, ctx: CustomerContext) =>
    mutationPayload(
      { customer: null },
      () => ctx.service.updateCustomer(args.input, ctx),
      async ({ customerId }) => ({ customer: await ctx.loadCustomer(customerId) }),
    ),
};
