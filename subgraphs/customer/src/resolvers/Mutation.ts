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
  createOpportunity: (_, args, ctx) =>
    mutationPayload(
      { opportunity: null },
      () => ctx.opportunities.create(args.input, ctx),
      async ({ opportunityId }) => ({ opportunity: await ctx.loadOpportunity(opportunityId) }),
    ),
  updateOpportunity: (_, args, ctx) =>
    mutationPayload(
      { opportunity: null },
      () => ctx.opportunities.update(args.input, ctx),
      async ({ opportunityId }) => ({ opportunity: await ctx.loadOpportunity(opportunityId) }),
    ),
  winOpportunity: (_, args, ctx) =>
    mutationPayload(
      { opportunity: null, order: null },
      () => ctx.opportunities.win(args.input, ctx),
      async ({ opportunityId, orderId }) => ({
        opportunity: await ctx.loadOpportunity(opportunityId),
        order: await ctx.loadOrder(orderId),
      }),
    ),
  loseOpportunity: (_, args, ctx) =>
    mutationPayload(
      { opportunity: null },
      () => ctx.opportunities.lose(args.input, ctx),
      async ({ opportunityId }) => ({ opportunity: await ctx.loadOpportunity(opportunityId) }),
    ),
  recordContractChange: (_, args, ctx) =>
    mutationPayload(
      { contractChange: null },
      () => ctx.contractChanges.record(args.input, ctx),
      async ({ changeId }) => ({ contractChange: await ctx.loadContractChange(changeId) }),
    ),
};
