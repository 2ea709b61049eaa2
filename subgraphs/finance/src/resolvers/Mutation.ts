import { DomainError, money, toUserError } from '@c2c/platform/core';
import type { CloseRevenueMonthCommand } from '../domain/month-close.service.ts';
import type { RecordPaymentCommand } from '../domain/payment.service.ts';
import type { FinanceContext } from '../context.ts';

/** Runs a use case and maps its domain errors, once, to `userErrors`. */
async function payload<T>(
  work: () => Promise<T>,
  onSuccess: (value: T) => Promise<Record<string, unknown>>,
  failed: Record<string, unknown> = { payment: null },
) {
  try {
    return { ...(await onSuccess(await work())), userErrors: [] };
  } catch (error) {
    if (error instanceof DomainError) return { ...failed, userErrors: [toUserError(error)] };
    throw error;
  }
}

export const Mutation = {
  recordPayment: (_: unknown, args: { input: RecordPaymentCommand }, ctx: FinanceContext) =>
    payload(
      () => ctx.payments.recordPayment(args.input, ctx),
      async (recorded) => ({
        payment: recorded.payment
          ? { ...recorded.payment, receivable: recorded.receivable }
          : await ctx.loaders.paymentById.load(recorded.paymentId),
      }),
    ),
  closeRevenueMonth: (_: unknown, args: { input: CloseRevenueMonthCommand }, ctx: FinanceContext) =>
    payload(
      () => ctx.monthClose.closeRevenueMonth(args.input, ctx),
      async (closed) => ({
        month: closed.month,
        recognized: closed.recognized.map((r) => money(r.amountMinor, r.currency)),
        journalEntryIds: closed.journalEntryIds,
      }),
      { month: null, recognized: [], journalEntryIds: [] },
    ),
};
