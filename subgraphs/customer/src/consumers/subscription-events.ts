import { z } from '@c2c/platform/core';
import { appendToOutbox, type DeadLetterEffect, type EventEffect, reading } from '@c2c/platform/events';
import { findContractValue, refreshContractValue, upsertContractLine } from '../data/contract.repository.ts';
import { SCHEMA } from '../data/tables.ts';
import { contractSyncedEvent, contractSyncFailedEvent } from '../events/contract-events.ts';

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
});

/** Annual contract value: seats × unit price × periods per year. */
export function annualValueMinor(
  seats: number,
  unitPriceMinor: number,
  billingPeriod: 'MONTH' | 'YEAR',
): number {
  return seats * unitPriceMinor * (billingPeriod === 'MONTH' ? 12 : 1);
}

const applySubscription = reading(SubscriptionData, async (trx, data, event, log) => {
  const written = await upsertContractLine(trx, {
    subscriptionId: data.id,
    customerId: data.customerId,
    currency: data.currency,
    annualValueMinor: annualValueMinor(data.seats, data.unitPriceMinor, data.billingPeriod),
    active: data.status === 'ACTIVE',
    sourceVersion: data.version,
  });
  if (written) await refreshContractValue(trx, data.customerId);
  else log.debug({ subscriptionId: data.id, version: data.version }, 'stale subscription event ignored');
  // Acknowledged either way: a stale version is already covered by the newer one applied before it.
  const value = await findContractValue(trx, data.customerId);
  await appendToOutbox(
    trx,
    SCHEMA,
    SCHEMA,
    [
      contractSyncedEvent({
        subscriptionId: data.id,
        customerId: data.customerId,
        subscriptionVersion: data.version,
        ...(data.amendmentId ? { amendmentId: data.amendmentId } : {}),
        ...value,
      }),
    ],
    { correlationId: event.correlationid, causationId: event.id },
  );
});

/** Consumer `customer.contract-value`: keeps the contract value (ARR) from billing's events. */
export const contractValueConsumer: Record<string, EventEffect> = {
  'subscription.created': applySubscription,
  'subscription.amended': applySubscription,
  'subscription.renewed': applySubscription,
  'subscription.cancelled': applySubscription,
};

/** Only what is needed to say which subscription failed: the event itself may be the malformed part. */
const FailedSubscription = z.object({ id: z.string().min(1), amendmentId: z.string().nullish() });

/**
 * The CRM's dead-letter reaction: when `customer.contract-value` gives up on a `subscription.*`
 * event, announce `contractsync.failed` in the same transaction, so billing can show the
 * amendment's CRM step as failed.
 */
export const onContractValueDeadLetter: DeadLetterEffect = async (trx, event, failure, log) => {
  if (failure.consumer !== 'customer.contract-value') return;
  const parsed = FailedSubscription.safeParse(event.data);
  const subscriptionId = parsed.success ? parsed.data.id : event.subject;
  const amendmentId = parsed.success ? parsed.data.amendmentId : null;
  await appendToOutbox(
    trx,
    SCHEMA,
    SCHEMA,
    [
      contractSyncFailedEvent({
        subscriptionId,
        ...(amendmentId ? { amendmentId } : {}),
        error: failure.error,
        attempts: failure.attempts,
      }),
    ],
    { correlationId: event.correlationid, causationId: event.id },
  );
  log.warn(
    { subscriptionId, amendmentId, correlationId: event.correlationid, attempts: failure.attempts },
    'contract sync failed',
  );
};
