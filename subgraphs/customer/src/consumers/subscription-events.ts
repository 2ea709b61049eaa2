import { isUuid, z } from '@c2c/platform/core';
import { type DeadLetterEffect, type EventEffect, readingMany } from '@c2c/platform/events/reading';
import { annualValueMinor } from '../domain/contract-value.rules.ts';
import type { ContractValueService } from '../domain/contract-value.service.ts';
import type { OrderWorkflow } from '../domain/order-workflow.ts';

/** What the CRM reads from `subscription.*` events (a tolerant reader: other fields are ignored). */
const SubscriptionData = z.object({
  id: z.string(),
  customerId: z.string(),
  status: z.enum(['ACTIVE', 'CANCELLED']),
  seats: z.number().int(),
  billingPeriod: z.enum(['MONTH', 'YEAR']),
  unitPriceMinor: z.number().int(),
  currency: z.string().length(3),
  version: z.number().int(),
  amendmentId: z.string().nullish(),
  /** The order that created the subscription (on `subscription.created` of a won opportunity). */
  orderId: z.string().nullish(),
});

/** Consumer `customer.contract-value`: keeps the contract value (ARR) from billing's events. */
export function contractValueConsumer(
  contracts: ContractValueService,
  orders: OrderWorkflow,
): Record<string, EventEffect> {
  // Acknowledged either way: a stale version is already covered by the newer one applied before
  // it. Applied many at a time in a batch: the CRM writes the lines and values together.
  const applySubscription = readingMany(SubscriptionData, async (trx, items) => {
    await contracts.applySubscriptions(
      trx,
      items.map(({ data, event, log }) => ({
        line: {
          subscriptionId: data.id,
          customerId: data.customerId,
          currency: data.currency,
          annualValueMinor: annualValueMinor(data.seats, data.unitPriceMinor, data.billingPeriod),
          active: data.status === 'ACTIVE',
          sourceVersion: data.version,
          amendmentId: data.amendmentId,
        },
        causality: {
          correlationId: event.correlationid,
          causationId: event.id,
          // Applied outside the event's own span: its outbox row continues the event's trace.
          ...(event.traceparent ? { traceparent: event.traceparent } : {}),
        },
        log,
      })),
    );
    // The contract of a won opportunity's subscription is recorded: the order's CRM step is done.
    for (const { data, log } of items)
      if (data.orderId && isUuid(data.orderId))
        await orders.step(trx, data.orderId.toLowerCase(), 'CRM', { kind: 'done', at: new Date() }, log);
  });
  return {
    'subscription.created': applySubscription,
    'subscription.amended': applySubscription,
    'subscription.renewed': applySubscription,
    'subscription.cancelled': applySubscription,
  };
}

/** Only what is needed to say which subscription failed: the event itself may be the malformed part. */
const FailedSubscription = z.object({
  id: z.string().min(1),
  amendmentId: z.string().nullish(),
  orderId: z.string().nullish(),
});

/**
 * The CRM's dead-letter reaction: when `customer.contract-value` gives up on a `subscription.*`
 * event, announce `contractsync.failed` in the same transaction, so billing can show the
 * amendment's CRM step as failed.
 */
export function onContractValueDeadLetter(
  contracts: ContractValueService,
  orders: OrderWorkflow,
): DeadLetterEffect {
  return async (trx, event, failure, log) => {
    if (failure.consumer !== 'customer.contract-value') return;
    const parsed = FailedSubscription.safeParse(event.data);
    const subscriptionId = parsed.success ? parsed.data.id : event.subject;
    const amendmentId = parsed.success ? parsed.data.amendmentId : null;
    const orderId = parsed.success ? parsed.data.orderId : null;
    // An order's subscription: the order shows its CRM step failed (the CRM's own record).
    if (orderId && isUuid(orderId))
      await orders.step(
        trx,
        orderId.toLowerCase(),
        'CRM',
        { kind: 'failed', error: failure.error, attempts: failure.attempts },
        log,
      );
    await contracts.announceSyncFailed(
      trx,
      { subscriptionId, amendmentId: amendmentId ?? null, error: failure.error, attempts: failure.attempts },
      { correlationId: event.correlationid, causationId: event.id },
    );
    log.warn(
      { subscriptionId, amendmentId, correlationId: event.correlationid, attempts: failure.attempts },
      'contract sync failed',
    );
  };
}
