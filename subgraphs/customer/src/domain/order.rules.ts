import { DomainError, parseIsoDate } from '@c2c/platform/core';
import type { OrderStatus, OrderStepStatus, OrderSystem } from '../data/tables.ts';

/** The longest error text an order step keeps. */
export const ERROR_MAX = 2000;

/**
 * An order's status from its steps: REJECTED once billing refused it; EXCEPTION while any step
 * failed; otherwise as far as the acknowledgements go — billing (SUBSCRIBED, or INVOICED with a
 * first invoice), the ERP (POSTED), and COMPLETED when billing, the ERP and the CRM all acknowledged.
 */
export function orderStatus(
  rejected: boolean,
  steps: readonly { system: OrderSystem; status: OrderStepStatus }[],
  hasInvoice: boolean,
): OrderStatus {
  if (rejected) return 'REJECTED';
  if (steps.some((step) => step.status === 'FAILED')) return 'EXCEPTION';
  const settled = (system: OrderSystem) => {
    const status = steps.find((step) => step.system === system)?.status;
    return status === 'DONE' || status === 'SKIPPED';
  };
  if (!settled('BILLING')) return 'VALIDATING';
  if (settled('ERP') && settled('CRM')) return 'COMPLETED';
  if (settled('ERP') && hasInvoice) return 'POSTED';
  return hasInvoice ? 'INVOICED' : 'SUBSCRIBED';
}

/** Seats of an opportunity: a positive integer (the plan's bounds are billing's check). */
export function validateOpportunitySeats(seats: number): number {
  if (!Number.isSafeInteger(seats) || seats < 1) {
    throw new DomainError('INVALID_SEATS', 'seats must be a positive integer', 'seats');
  }
  return seats;
}

/** A plan code as billing's catalog writes them: 1–64 of A–Z, 0–9, dash and underscore. */
export function validatePlanCode(code: string): string {
  if (!/^[A-Z0-9_-]{1,64}$/.test(code)) {
    throw new DomainError('PLAN_NOT_FOUND', `no plan ${JSON.stringify(code)}`, 'planCode');
  }
  return code;
}

export function validateStartDate(value: string): string {
  return parseIsoDate(value, 'startDate');
}

export function validateExpectedVersion(value: number | null | undefined): number | null {
  const version = value ?? null;
  if (version !== null && (!Number.isInteger(version) || version < 1)) {
    throw new DomainError('INVALID_VERSION', 'expectedVersion must be a positive integer', 'expectedVersion');
  }
  return version;
}
