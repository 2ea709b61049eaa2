import { isUuid, z } from '@c2c/platform/core';
import { type EventEffect, reading, readingMany } from '@c2c/platform/events/reading';
import type { CrmAcknowledgementService } from '../domain/crm-acknowledgement.service.ts';

const Id = z.string().refine(isUuid, 'expected a UUID');

/** What billing reads from `contract.synced` (tolerant reader: other fields are ignored). */
const ContractSynced = z.object({ subscriptionId: Id, amendmentId: Id.nullish() });
/** What billing reads from `contractsync.failed`. */
const ContractSyncFailed = z.object({
  subscriptionId: Id,
  amendmentId: Id.nullish(),
  error: z.string(),
  attempts: z.number().int().positive().nullish(),
});

/** Consumer `subscription.crm-ack`: the CRM's acknowledgements, the CRM step of an amendment. */
export function crmAckConsumer(acks: CrmAcknowledgementService): Record<string, EventEffect> {
  // Applied many at a time in a batch: the CRM steps of all the synced amendments together.
  const onContractSynced = readingMany(ContractSynced, async (trx, items) => {
    // A sync without an amendment (a subscription created, or a renewal billed before renewals
    // were tracked as amendments) concerns no workflow.
    const tracked = items.flatMap(({ data, event, log }) =>
      data.amendmentId
        ? [{ amendmentId: data.amendmentId.toLowerCase(), at: new Date(event.time), log }]
        : [],
    );
    const found = await acks.syncedMany(trx, tracked);
    tracked.forEach(({ amendmentId, log }, i) => {
      if (!found[i]) log.warn({ amendmentId }, 'contract.synced for an unknown amendment ignored');
    });
  });

  const onContractSyncFailed = reading(ContractSyncFailed, async (trx, data, _event, log) => {
    if (!data.amendmentId) {
      log.warn({ subscriptionId: data.subscriptionId, error: data.error }, 'CRM contract sync failed');
      return;
    }
    const found = await acks.syncFailed(
      trx,
      { amendmentId: data.amendmentId.toLowerCase(), error: data.error, attempts: data.attempts ?? null },
      log,
    );
    if (!found)
      log.warn({ amendmentId: data.amendmentId }, 'contractsync.failed for an unknown amendment ignored');
  });

  return { 'contract.synced': onContractSynced, 'contractsync.failed': onContractSyncFailed };
}
