import { isUuid, isValidIsoDate, z } from '@c2c/platform/core';
import { type EventEffect, reading } from '@c2c/platform/events/reading';
import type { ContractChangeService } from '../domain/contract-change.service.ts';

const Id = z
  .string()
  .refine(isUuid, 'expected a UUID')
  .transform((id) => id.toLowerCase());

/** What billing reads from `contractchange.requested` (tolerant reader). */
const Requested = z.object({
  changeId: Id,
  subscriptionId: Id,
  seats: z.number().int(),
  effectiveDate: z.string().refine(isValidIsoDate, 'expected a date YYYY-MM-DD'),
  reason: z.string().nullish(),
});

/** Consumer `subscription.contract-change`: commercial amendments recorded in the CRM. */
export function contractChangeConsumer(changes: ContractChangeService): Record<string, EventEffect> {
  return {
    'contractchange.requested': reading(Requested, (trx, data, event, log) =>
      changes.apply(
        trx,
        { ...data, reason: data.reason ?? null },
        { correlationId: event.correlationid, causationId: event.id },
        log,
      ),
    ),
  };
}
