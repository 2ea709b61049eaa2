import { isUuid, z } from '@c2c/platform/core';
import { type EventEffect, reading } from '@c2c/platform/events/reading';
import type { OrderWorkflow } from '../domain/order-workflow.ts';

const Id = z
  .string()
  .refine(isUuid, 'expected a UUID')
  .transform((id) => id.toLowerCase());
const Check = z.object({
  name: z.enum(['ACCOUNT_HIERARCHY', 'PRICING', 'TAX_CONTEXT', 'ELIGIBILITY']),
  status: z.enum(['PASSED', 'FAILED']),
  message: z.string(),
});

/** What the CRM reads from billing's order events (tolerant readers: other fields are ignored). */
const OrderRejected = z.object({ orderId: Id, checks: z.array(Check) });
const OrderSubscribed = z.object({
  orderId: Id,
  subscriptionId: Id,
  invoiceId: Id.nullable(),
  checks: z.array(Check),
});
const OrderFailed = z.object({
  orderId: Id,
  error: z.string(),
  attempts: z.number().int().positive().nullish(),
});
/** What the CRM reads from the ERP's acknowledgements; only those naming an order concern it. */
const InvoicePosted = z.object({ orderId: Id.nullish(), postedAt: z.iso.datetime({ offset: true }) });
const PostingFailed = z.object({
  orderId: Id.nullish(),
  error: z.string(),
  attempts: z.number().int().positive().nullish(),
});

/**
 * Consumer `customer.order`: billing's checks and subscription (the BILLING step) and the ERP's
 * posting of the first invoice (the ERP step) of the orders the CRM started.
 */
export function orderConsumer(orders: OrderWorkflow): Record<string, EventEffect> {
  return {
    'order.rejected': reading(OrderRejected, (trx, data, event, log) =>
      orders.rejected(trx, data.orderId, data.checks, new Date(event.time), log),
    ),
    'order.subscribed': reading(OrderSubscribed, (trx, data, event, log) =>
      orders.subscribed(
        trx,
        {
          orderId: data.orderId,
          subscriptionId: data.subscriptionId,
          invoiceId: data.invoiceId,
          checks: data.checks,
          at: new Date(event.time),
        },
        log,
      ),
    ),
    'order.failed': reading(OrderFailed, (trx, data, _event, log) =>
      orders.step(
        trx,
        data.orderId,
        'BILLING',
        { kind: 'failed', error: data.error, attempts: data.attempts ?? null },
        log,
      ),
    ),
    'invoice.posted': reading(InvoicePosted, async (trx, data, _event, log) => {
      if (!data.orderId) return;
      await orders.step(trx, data.orderId, 'ERP', { kind: 'done', at: new Date(data.postedAt) }, log);
    }),
    'posting.failed': reading(PostingFailed, async (trx, data, _event, log) => {
      if (!data.orderId) return;
      await orders.step(
        trx,
        data.orderId,
        'ERP',
        { kind: 'failed', error: data.error, attempts: data.attempts ?? null },
        log,
      );
    }),
  };
}
