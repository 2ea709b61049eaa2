import { DomainError, money, toUserError } from '@c2c/platform/core';
import { findAllPlans } from '../data/plan.repository.ts';
import type { PreviewAmendmentCommand } from '../domain/amendment.service.ts';
import type { SubscriptionContext } from '../context.ts';
import { lineColumns } from '../domain/invoicing.ts';

export const Query = {
  plans: async (_: unknown, __: unknown, ctx: SubscriptionContext) => {
    const rows = await findAllPlans(ctx.db);
    for (const row of rows) ctx.loaders.planByCode.prime(row.code, row);
    return rows;
  },
  plan: (_: unknown, args: { code: string }, ctx: SubscriptionContext) => ctx.loadPlan(args.code),
  billingSubscription: (_: unknown, args: { id: string }, ctx: SubscriptionContext) =>
    ctx.loadSubscription(args.id),
  invoice: (_: unknown, args: { id: string }, ctx: SubscriptionContext) => ctx.loadInvoice(args.id),
  amendment: (_: unknown, args: { id: string }, ctx: SubscriptionContext) => ctx.loadAmendment(args.id),
  previewAmendment: async (
    _: unknown,
    args: { input: PreviewAmendmentCommand },
    ctx: SubscriptionContext,
  ) => {
    try {
      const { currency, draft } = await ctx.amendments.previewAmendment(args.input);
      const totals = draft?.totals ?? { subtotalMinor: 0, taxMinor: 0, totalMinor: 0 };
      return {
        documentKind: draft?.kind ?? 'NONE',
        // Shaped as stored invoice lines, so that InvoiceLine's resolvers render them.
        lines: (draft?.lines ?? []).map((line) => ({ ...lineColumns(line), currency })),
        subtotal: money(totals.subtotalMinor, currency),
        tax: money(totals.taxMinor, currency),
        total: money(totals.totalMinor, currency),
        userErrors: [],
      };
    } catch (error) {
      if (error instanceof DomainError) {
        const empty = { documentKind: null, lines: [], subtotal: null, tax: null, total: null };
        return { ...empty, userErrors: [toUserError(error)] };
      }
      throw error;
    }
  },
};
