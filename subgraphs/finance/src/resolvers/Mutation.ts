import { DomainError, toUserError } from '@c2c/platform';
import type { RecordPaymentCommand } from '../domain/payment.service.ts';
import type { FinanceContext } from '../context.ts';

/** Runs a use case and maps its domain errors, once, to `userErrors`. */
async function payload<T>(work: () => Promise<T>, onSuccess: (value: T) => Promise<Record<string, unknown>>) {
  try {
    return { ...(await onSuccess(await work())), userErrors: [] };
  } catch (error) {
    if (error instanceof DomainError) return { payment: null, userErrors: [toUserError(error)] };
    throw error;
  }
}

export const Mutation = {
  recordPayment: (_: unknown, args: { input: RecordPaymentCommand }, ctx: FinanceContext) =>
    payload(
      () => ctx.payments.recordPayment(args.input, ctx),
      async ({ paymentId }) => ({ payment: await ctx.loaders.paymentById.load(paymentId) }),
    ),
};
