import { mutationPayload } from '@c2c/platform/graphql';
import type { MutationResolvers } from '../generated/resolvers.ts';

export const Mutation: MutationResolvers = {
  createCustomer: (_, args, ctx) =>
    mutationPayload(
      { customer: null },
      () => ctx.service.createCustomer(args.input, ctx),
      async ({ customerId }) => ({ customer: await ctx.loadCustomer(customerId) }),
    ),
  updateCustomer: (_, args, ctx) =>
    mutationPayload(
      { customer: null },
      () => ctx.service.updateCustomer(args.input, ctx),
      async ({ customerId }) => ({ customer: await ctx.loadCustomer(customerId) }),
    ),
};
