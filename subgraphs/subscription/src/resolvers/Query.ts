import { money } from '@c2c/platform/core';
import { mutationPayload } from '@c2c/platform/graphql';
import type { PreviewAmendmentCommand } from '../domain/amendment.service.ts';
import type { SubscriptionContext } from '../context.ts';
import { lineColumns } from '../domain/invoicing.ts';

export const Query = {
  plans: async (_: unknown, __: unknown, ctx: SubscriptionContext) => {
    const rows = await ctx.plans.allPlans();
    for (const row of rows) ctx.loaders.planByCode.prime(row.code, row);
    return rows;
  },
  plan: (_: unknown, args: { code: string }, ctx: SubscriptionContext) => ctx.loadPlan(args.code),
  billingSubscription: (_: unknown, args: { id: string }, ctx: SubscriptionContext) =>
    ctx.loadSubscription(args.id),
  invoice: (_: unknown, args: { id: string }, ctx: SubscriptionContext) => ctx.loadInvoice(args.id),
  amendment: (_: unknown, args: { id: string }, ctx: SubscriptionContext) => ctx.loadAmendment(args.id),
  // A query with a payload's shape: a refused preview is `userErrors`, like a mutation's.
  previewAmendment: (_: unknown, args: { input: PreviewAmendmentCommand }, ctx: SubscriptionContext) =>
    mutationPayload(
      { documentKind: null, lines: [], subtotal: null, tax: null, total: null },
      () => ctx.amendments.previewAmendment(args.input),
      ({ currency, draft }) => {
        const totals = draft?.totals ?? { subtotalMinor: 0, taxMinor: 0, totalMinor: 0 };
        return {
          documentKind: draft?.kind ?? 'NONE',
          // Shaped as stored invoice lines, so that InvoiceLine's resolvers render them.
          lines: (draft?.lines ?? []).map((line) => ({ ...lineColumns(line), currency })),
          subtotal: money(totals.subtotalMinor, currency),
          tax: money(totals.taxMinor, currency),
          total: money(totals.totalMinor, currency),
        };
      },
    ),
};
