import { money } from '@c2c/platform/core';
import { mutationPayload } from '@c2c/platform/graphql';
import type { CloseRevenueMonthCommand } from '../domain/month-close.service.ts';
import type { RecordPaymentCommand } from '../domain/payment.service.ts';
import type { FinanceContext } from '../context.ts';

export const Mutation = {
  recordPayment: (_: unknown, args: { input: RecordPaymentCommand }, ctx: FinanceContext) =>
    mutationPayload(
      { payment: null },
      () => ctx.payments.recordPayment(args.input, ctx),
      async (recorded) => ({
        payment: recorded.payment
          ? { ...recorded.payment, receivable: recorded.receivable }
          : await ctx.loaders.paymentById.load(recorded.paymentId),
      }),
    ),
  closeRevenueMonth: (_: unknown, args: { input: CloseRevenueMonthCommand }, ctx: FinanceContext) =>
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
