import { money } from '@c2c/platform/core';
import { mutationPayload } from '@c2c/platform/graphql';
import { lineColumns } from '../domain/invoicing.ts';
import type { QueryResolvers } from '../generated/resolvers.ts';

export const Query: QueryResolvers = {
  plans: async (_, __, ctx) => {
    const rows = await ctx.plans.allPlans();
    for (const row of rows) ctx.loaders.planByCode.prime(row.code, row);
    return rows;
  },
  plan: (_, args, ctx) => ctx.loadPlan(args.code),
  billingSubscription: (_, args, ctx) => ctx.loadSubscription(args.id),
  invoice: (_, args, ctx) => ctx.loadInvoice(args.id),
  usageReconciliation: (_, args, ctx) =>
    ctx.usage.reconciliation(args.from ?? null, args.to ?? null, args.onlyDifferences ?? false),
  amendment: (_, args, ctx) => ctx.loadAmendment(args.id),
  // A query with a payload's shape: a refused preview is `userErrors`, like a mutation's.
  previewAmendment: (_, args, ctx) =>
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
