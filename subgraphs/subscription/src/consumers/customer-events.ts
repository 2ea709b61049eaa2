import { UUID_PATTERN, z } from '@c2c/platform/core';
import { type EventEffect, reading } from '@c2c/platform/events/reading';
import type { BillToService } from '../domain/bill-to.service.ts';

/** What billing reads from `customer.*` events (a tolerant reader: other fields are ignored). */
const CustomerData = z.object({
  id: z.string().regex(UUID_PATTERN),
  name: z.string(),
  email: z.string(),
  status: z.string(),
  businessUnit: z.string(),
  country: z.string().length(2),
  region: z.string().nullish(),
  parentId: z.string().regex(UUID_PATTERN).nullish(),
  version: z.number().int().positive(),
});

/** Consumer `subscription.bill-to`: the bill-to replica of CRM customers. */
export function billToConsumer(billTo: BillToService): Record<string, EventEffect> {
  const applyCustomer = reading(CustomerData, async (trx, data, event, log) => {
    const written = await billTo.applyCustomer(trx, {
      id: data.id.toLowerCase(),
      name: data.name,
      email: data.email,
      status: data.status,
      business_unit: data.businessUnit,
      country: data.country.toUpperCase(),
      region: data.region ?? null,
      parent_id: data.parentId?.toLowerCase() ?? null,
      version: data.version,
    });
    if (!written) log.debug({ customerId: data.id, version: data.version }, 'stale customer event ignored');
  });
  return {
    'customer.created': applyCustomer,
    'customer.updated': applyCustomer,
  };
}
