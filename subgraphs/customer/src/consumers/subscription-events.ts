import { z, type EventEffect } from '@c2c/platform';
import { refreshContractValue, upsertContractLine } from '../data/contract.repository.ts';

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
});

/** Annual contract value: seats × unit price × periods per year. */
export function annualValueMinor(
  seats: number,
  unitPriceMinor: number,
  billingPeriod: 'MONTH' | 'YEAR',
): number {
  return seats * unitPriceMinor * (billingPeriod === 'MONTH' ? 12 : 1);
}

const applySubscription: EventEffect = async (trx, event, log) => {
  const data = SubscriptionData.parse(event.data);
  const written = await upsertContractLine(trx, {
    subscriptionId: data.id,
    customerId: data.customerId,
    currency: data.currency,
    annualValueMinor: annualValueMinor(data.seats, data.unitPriceMinor, data.billingPeriod),
    active: data.status === 'ACTIVE',
    sourceVersion: data.version,
  });
  if (!written) {
    log.debug({ subscriptionId: data.id, version: data.version }, 'stale subscription event ignored');
    return;
  }
  await refreshContractValue(trx, data.customerId);
};

/** Consumer `customer.contract-value`: keeps the contract value (ARR) from billing's events. */
export const contractValueConsumer: Record<string, EventEffect> = {
  'subscription.created': applySubscription,
  'subscription.amended': applySubscription,
  'subscription.renewed': applySubscription,
  'subscription.cancelled': applySubscription,
};
