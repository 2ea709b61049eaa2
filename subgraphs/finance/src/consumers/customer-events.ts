import { z } from '@c2c/platform/core';
import { type EventEffect, reading } from '@c2c/platform/events';
import { upsertCustomerMaster } from '../data/replica.repository.ts';
import { isUuid, normalizeId } from '../domain/ids.ts';

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

const applyCustomer = reading(CustomerData, async (trx, data, event, log) => {
  const written = await upsertCustomerMaster(trx, {
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

/** Consumer `finance.customer-master`: the ERP's replica of CRM accounts. */
export const customerMasterConsumer: Record<string, EventEffect> = {
  'customer.created': applyCustomer,
  'customer.updated': applyCustomer,
};
