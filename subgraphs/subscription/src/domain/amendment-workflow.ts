import type { Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import {
  findStepsByAmendmentIds,
  lockAmendments,
  saveSteps,
  type AmendmentRow,
  type StepWrite,
} from '../data/amendment.repository.ts';
import type { WorkflowSystem } from '../data/tables.ts';
import { ERROR_MAX, workflowStatus } from './amendment.rules.ts';

/** What a downstream system reported about its step. */
export type StepOutcome =
  { kind: 'done'; at: Date } | { kind: 'failed'; error: string; attempts: number | null };

/** One acknowledgement or failure of a downstream system, on the amendment it concerns. */
export interface StepReport {
  where: { id: string } | { invoiceId: string };
  system: WorkflowSystem;
  outcome: StepOutcome;
  log: Logger;
}

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
  return (await recordStepOutcomes(trx, [{ where, system, outcome, log }]))[0];
}

/**
 * `recordStepOutcome` for many reports at once, as if recorded one after the other in their order
 * (a batch of acknowledgements): three statements for any number — the amendments locked, their
 * steps read, the changed steps and statuses written. Returns each report's amendment as it stands
 * after it (undefined when none matches).
 */
export async function recordStepOutcomes(
  trx: AnyTransaction,
  reports: readonly StepReport[],
): Promise<(AmendmentRow | undefined)[]> {
  const amendments = await lockAmendments(trx, {
    ids: reports.flatMap(({ where }) => ('id' in where ? [where.id] : [])),
    invoiceIds: reports.flatMap(({ where }) => ('invoiceId' in where ? [where.invoiceId] : [])),
  });
  const byId = new Map(amendments.map((a) => [a.id, { ...a }]));
  const byInvoice = new Map(
    amendments.flatMap((a) => (a.invoice_id ? [[a.invoice_id, byId.get(a.id)!]] : [])),
  );
  const steps = new Map<string, StepWrite[]>();
  for (const step of await findStepsByAmendmentIds(trx, [...byId.keys()]))
    steps.set(step.amendment_id, [...(steps.get(step.amendment_id) ?? []), { ...step }]);
  const changedSteps = new Set<StepWrite>();
  const statusBefore = new Map(amendments.map((a) => [a.id, a.status]));
  const results = reports.map(({ where, system, outcome, log }) => {
    const amendment = 'id' in where ? byId.get(where.id) : byInvoice.get(where.invoiceId);
    if (!amendment) return undefined;
    const own = steps.get(amendment.id) ?? [];
    const step = own.find((s) => s.system === system);
    if (!step) throw new Error(`amendment ${amendment.id} has no ${system} step`);
    if (step.status === 'DONE' || step.status === 'SKIPPED') {
      log.debug({ amendmentId: amendment.id, system, outcome: outcome.kind }, 'step already settled');
      return { ...amendment };
    }
    if (outcome.kind === 'done') {
      step.status = 'DONE';
      step.attempts += 1;
      step.completed_at = outcome.at;
    } else {
      step.status = 'FAILED';
      step.attempts += Math.max(outcome.attempts ?? 1, 1);
      step.last_error = outcome.error.slice(0, ERROR_MAX);
    }
    changedSteps.add(step);
    const status = workflowStatus(own, amendment.invoice_id !== null);
    if (status !== amendment.status) {
      amendment.status = status;
      const fields = { amendmentId: amendment.id, correlationId: amendment.correlation_id, system, status };
      if (status === 'EXCEPTION') log.warn(fields, 'amendment step failed');
      else log.info(fields, 'amendment advanced');
    }
    return { ...amendment };
  });
  await saveSteps(
    trx,
    [...changedSteps],
    [...byId.values()]
      .filter((a) => a.status !== statusBefore.get(a.id))
      .map((a) => ({ id: a.id, status: a.status })),
  );
  return results;
}
