import { isUuid, z } from '@c2c/platform/core';
import { type EventEffect, reading } from '@c2c/platform/events/reading';
import type { ContractChangeService } from '../domain/contract-change.service.ts';

const Id = z
  .string()
  .refine(isUuid, 'expected a UUID')
  .transform((id) => id.toLowerCase());

/** What the CRM reads from billing's answers to a contract change (tolerant readers). */
const Accepted = z.object({ changeId: Id, amendmentId: Id });
const Refused = z.object({ changeId: Id, code: z.string(), message: z.string() });

/** Consumer `customer.contract-change`: billing's answer to a commercial amendment recorded in the CRM. */
export function contractChangeConsumer(changes: ContractChangeService): Record<string, EventEffect> {
  return {
    'contractchange.accepted': reading(Accepted, (trx, data, _event, log) =>
      changes.answered(trx, data.changeId, { kind: 'accepted', amendmentId: data.amendmentId }, log),
    ),
    'contractchange.refused': reading(Refused, (trx, data, _event, log) =>
      changes.answered(trx, data.changeId, { kind: 'refused', code: data.code, message: data.message }, log),
    ),
  };
}
