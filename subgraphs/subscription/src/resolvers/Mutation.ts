import { money, toUserError, type UserError } from '@c2c/platform/core';
import { mutationPayload } from '@c2c/platform/graphql';
import type { AmendmentResult } from '../domain/amendment.service.ts';
import type { SubscriptionContext } from '../context.ts';
import type { MutationResolvers } from '../generated/resolvers.ts';

/**
 * An amendment's payload: the amendment, its document and the subscription as the request left
 * them (a replay returns the same); results stored before snapshots existed are re-read.
 */
async function amendmentPayload(result: AmendmentResult, ctx: SubscriptionContext) {
  if (result.snapshot) {
    const { amendment, subscription, document } = result.snapshot;
    return { amendment: { ...amendment, document }, subscription };
  }
  const [amendment, subscription] = await Promise.all([
    ctx.loadAmendment(result.amendmentId),
    ctx.loadSubscription(result.subscriptionId),
  ]);
  return { amendment, subscription };
}

export const Mutation: MutationResolvers = {
  createPlan: (_, args, ctx) =>
    mutationPayload(
      { plan: null },
      () => ctx.plans.createPlan(args.input, ctx),
      async ({ planCode }) => ({ plan: await ctx.loadPlan(planCode) }),
    ),
  createSubscription: (_, args, ctx) =>
    mutationPayload(
      { subscription: null },
      () => ctx.subscriptions.createSubscription(args.input, ctx),
      async (created) => ({
        subscription: created.subscription ?? (await ctx.loadSubscription(created.subscriptionId)),
      }),
    ),
  // renewedCount and invoicedTotal are non-null in the contract: a refused run reports 0 and [].
  renewSubscriptions: (_, args, ctx) =>
    mutationPayload(
      { renewedCount: 0, invoicedTotal: [], failures: [], draftCount: 0 },
      () => ctx.billingRun.renewSubscriptions(args, ctx),
      async (summary) => ({
        renewedCount: summary.renewedCount,
        invoicedTotal: summary.invoiced.map((total) => money(total.totalMinor, total.currency)),
        failures: summary.failures ?? [],
        draftCount: summary.drafts ?? 0,
      }),
    ),
  // Refused events are userErrors next to the counts: the batch's other events are recorded.
  recordUsage: async (_, args, ctx) => {
    const payload = await mutationPayload(
      { accepted: 0, duplicates: 0, late: 0, errors: [] as UserError[] },
      () => ctx.usage.recordUsage(args.input.events),
      (result) => ({ ...result, errors: result.errors.map(toUserError) }),
    );
    const { errors, userErrors, ...counts } = payload;
    return { ...counts, userErrors: [...userErrors, ...errors] };
  },
  amendSubscription: (_, args, ctx) =>
    mutationPayload(
      { amendment: null, subscription: null },
      () => ctx.amendments.amendSubscription(args.input, ctx),
      (result) => amendmentPayload(result, ctx),
    ),
  cancelSubscription: (_, args, ctx) =>
    mutationPayload(
      { amendment: null, subscription: null },
      () => ctx.amendments.cancelSubscription(args.input, ctx),
      (result) => amendmentPayload(result, ctx),
    ),
};
