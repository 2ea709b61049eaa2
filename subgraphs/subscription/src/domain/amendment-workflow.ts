import type { Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import {
  findAmendmentForUpdate,
  findStepsByAmendmentIds,
  setAmendmentStatus,
  updateStep,
  type AmendmentRow,
} from '../data/amendment.repository.ts';
import type { WorkflowSystem } from '../data/tables.ts';
import { ERROR_MAX, workflowStatus } from './amendment.rules.ts';

/** What a downstream system reported about its step. */
export type StepOutcome =
  { kind: 'done'; at: Date } | { kind: 'failed'; error: string; attempts: number | null };

/**
 * Records a downstream system's acknowledgement or failure on the amendment's step and derives the
 * amendment's status again, inside the consumer's transaction. The amendment row is locked first,
 * so acknowledgements of the ERP and the CRM arriving together cannot both miss the other's step.
 * A success after a failure (a replayed dead letter) turns the step DONE; a failure never undoes a
 * success. `attempts` adds up the deliveries the step has seen: the failed ones reported with a dead
 * letter, and the one that succeeded. Returns undefined when no amendment matches.
 */
export async function recordStepOutcome(
  trx: AnyTransaction,
  where: { id: string } | { invoiceId: string },
  system: WorkflowSystem,
  outcome: StepOutcome,
  log: Logger,
): Promise<AmendmentRow | undefined> {
  const amendment = await findAmendmentForUpdate(trx, where);
  if (!amendment) return undefined;
  const steps = await findStepsByAmendmentIds(trx, [amendment.id]);
  const step = steps.find((s) => s.system === system);
  if (!step) throw new Error(`amendment ${amendment.id} has no ${system} step`);
  if (step.status === 'DONE' || step.status === 'SKIPPED') {
    log.debug({ amendmentId: amendment.id, system, outcome: outcome.kind }, 'step already settled');
    return amendment;
  }
  if (outcome.kind === 'done') {
    await updateStep(trx, amendment.id, system, {
      status: 'DONE',
      attempts: step.attempts + 1,
      completedAt: outcome.at,
    });
    step.status = 'DONE';
  } else {
    await updateStep(trx, amendment.id, system, {
      status: 'FAILED',
      attempts: step.attempts + Math.max(outcome.attempts ?? 1, 1),
      lastError: outcome.error.slice(0, ERROR_MAX),
    });
    step.status = 'FAILED';
  }
  const status = workflowStatus(steps, amendment.invoice_id !== null);
  if (status !== amendment.status) {
    await setAmendmentStatus(trx, amendment.id, status);
    const fields = { amendmentId: amendment.id, correlationId: amendment.correlation_id, system, status };
    if (status === 'EXCEPTION') log.warn(fields, 'amendment step failed');
    else log.info(fields, 'amendment advanced');
  }
  return { ...amendment, status };
}
