import { money } from '@c2c/platform/core';
import { mutationPayload } from '@c2c/platform/graphql';
import type { MutationResolvers } from '../generated/resolvers.ts';

export const Mutation: MutationResolvers = {
  recordPayment: (_, args, ctx) =>
    mutationPayload(
      { payment: null },
      () => ctx.payments.recordPayment(args.input, ctx),
      async (recorded) => ({
        payment: recorded.payment
          ? { ...recorded.payment, receivable: recorded.receivable }
          : await ctx.loaders.paymentById.load(recorded.paymentId),
      }),
    ),
  closeRevenueMonth: (_, args, ctx) =>
    mutationPayload(
      { month: null, recognized: [], journalEntryIds: [] },
      () => ctx.monthClose.closeRevenueMonth(args.input, ctx),
      async (closed) => ({
        month: closed.month,
        recognized: closed.recognized.map((r) => money(r.amountMinor, r.currency)),
        journalEntryIds: closed.journalEntryIds,
      }),
    ),
};
