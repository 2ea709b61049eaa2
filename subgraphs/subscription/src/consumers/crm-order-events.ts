import { isUuid, isValidIsoDate, z } from '@c2c/platform/core';
import { type DeadLetterEffect, type EventEffect, reading } from '@c2c/platform/events/reading';
import type { OrderService } from '../domain/order.service.ts';

const Id = z
  .string()
  .refine(isUuid, 'expected a UUID')
  .transform((id) => id.toLowerCase());

/** What billing reads from `opportunity.won` (tolerant reader: other fields are ignored). */
const OpportunityWon = z.object({
  orderId: Id,
  opportunityId: Id,
  customerId: Id,
  planCode: z.string().min(1),
  seats: z.number().int(),
  startDate: z.string().refine(isValidIsoDate, 'expected a date YYYY-MM-DD'),
});

/** Consumer `subscription.order`: billing's part of the orders the CRM starts. */
export function orderConsumer(orders: OrderService): Record<string, EventEffect> {
  return {
    'opportunity.won': reading(OpportunityWon, (trx, data, event, log) =>
      orders.fulfil(trx, data, { correlationId: event.correlationid, causationId: event.id }, log),
    ),
  };
}

/** Only what is needed to say which order failed: the event itself may be the malformed part. */
const FailedOrder = z.object({ orderId: z.string().min(1) });

/**
 * Billing's dead-letter reaction: when `subscription.order` gives up on `opportunity.won`, announce
 * `order.failed` in the same transaction, so the CRM shows the order's BILLING step as failed.
 */
export function onOrderDeadLetter(orders: OrderService): DeadLetterEffect {
  return async (trx, event, failure, log) => {
    if (failure.consumer !== 'subscription.order') return;
    const parsed = FailedOrder.safeParse(event.data);
    if (!parsed.success) {
      log.error({ eventId: event.id }, 'dead-lettered opportunity.won names no order');
      return;
    }
    await orders.announceFailed(
      trx,
      { orderId: parsed.data.orderId, error: failure.error, attempts: failure.attempts },
      { correlationId: event.correlationid, causationId: event.id },
    );
    log.warn(
      { orderId: parsed.data.orderId, correlationId: event.correlationid, attempts: failure.attempts },
      'order not fulfilled',
    );
  };
}
