import { z } from '@c2c/platform/core';
import { type EventEffect, reading } from '@c2c/platform/events/reading';
import { isUuid, normalizeId } from '../domain/ids.ts';
import type { ReplicaService } from '../domain/replica.service.ts';

/** What the ERP's customer master keeps from `customer.*` events (tolerant reader). */
const CustomerData = z.object({
  id: z.string().refine(isUuid, 'expected a UUID').transform(normalizeId),
  name: z.string(),
  status: z.string(),
  businessUnit: z.string(),
  country: z.string(),
  region: z.string().nullish(),
  version: z.number().int(),
});

/** Consumer `finance.customer-master`: the ERP's replica of CRM accounts. */
export function customerMasterConsumer(replicas: ReplicaService): Record<string, EventEffect> {
  const applyCustomer = reading(CustomerData, async (trx, data, event, log) => {
    const written = await replicas.applyCustomer(trx, {
      id: data.id,
      name: data.name,
      status: data.status,
      business_unit: data.businessUnit,
      country: data.country,
      region: data.region ?? null,
      version: data.version,
    });
    if (!written) log.debug({ customerId: data.id, version: data.version }, 'stale customer event ignored');
  });
  return {
    'customer.created': applyCustomer,
    'customer.updated': applyCustomer,
  };
}
