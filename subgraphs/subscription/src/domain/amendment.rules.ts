import { cleanText, DomainError } from '@c2c/platform/core';
import type { AmendmentStatus, StepStatus, WorkflowSystem } from '../data/tables.ts';

export const REASON_MAX = 500;
/** Errors reported by other systems are kept for operators, cut to a readable length. */
export const ERROR_MAX = 2000;

export interface StepState {
  system: WorkflowSystem;
  status: StepStatus;
}

/**
 * The amendment's status from its steps (docs/events.md: the amendment workflow):
 * a failed step is an EXCEPTION; all steps done or skipped is COMPLETED; the ERP's acknowledgement
 * is POSTED; an issued document still waiting for it is INVOICED; otherwise ACCEPTED. Derived, not
 * stepped, so acknowledgements may arrive in any order (CRM before ERP) and still end COMPLETED.
 */
export function workflowStatus(steps: readonly StepState[], hasDocument: boolean): AmendmentStatus {
  if (steps.some((step) => step.status === 'FAILED')) return 'EXCEPTION';
  if (steps.every((step) => step.status === 'DONE' || step.status === 'SKIPPED')) return 'COMPLETED';
  const erp = steps.find((step) => step.system === 'ERP');
  if (erp?.status === 'DONE') return 'POSTED';
  return hasDocument ? 'INVOICED' : 'ACCEPTED';
}

/** Steps of a newly committed amendment: billing is done; the ERP has nothing to post without a document. */
export function initialSteps(hasDocument: boolean, committedAt: Date) {
  return [
    { system: 'BILLING', status: 'DONE', attempts: 1, last_error: null, completed_at: committedAt },
    {
      system: 'ERP',
      status: hasDocument ? 'PENDING' : 'SKIPPED',
      attempts: 0,
      last_error: null,
      completed_at: null,
    },
    { system: 'CRM', status: 'PENDING', attempts: 0, last_error: null, completed_at: null },
  ] as const satisfies readonly {
    system: WorkflowSystem;
    status: StepStatus;
    attempts: number;
    last_error: string | null;
    completed_at: Date | null;
  }[];
}

export function validateReason(reason: string | null | undefined): string | null {
  return cleanText(reason, 'reason', REASON_MAX, true);
}

export function validateExpectedVersion(version: number | null | undefined): number | null {
  if (version === null || version === undefined) return null;
  if (!Number.isInteger(version) || version < 1) {
    throw new DomainError(
      'INVALID_VERSION',
      `expectedVersion must be a positive whole number, got ${version}`,
      'expectedVersion',
    );
  }
  return version;
}

export function versionConflict(expected: number, actual: number): DomainError {
  return new DomainError(
    'VERSION_CONFLICT',
    `the subscription is at version ${actual}, not ${expected}: reload it and decide again`,
    'expectedVersion',
  );
}
