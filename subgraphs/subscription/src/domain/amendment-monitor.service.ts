import { DomainError } from '@c2c/platform/core';
import { type AnyDb } from '@c2c/platform/db';
import {
  amendmentActivity,
  countAmendments,
  countOpenAmendments,
  findAmendmentsNewestFirst,
} from '../data/amendment-monitor.repository.ts';
import type { AmendmentStatus } from '../data/tables.ts';

/** The activity window is whole minutes up to a day. */
export const MAX_ACTIVITY_MINUTES = 1440;

export function activityMinutes(value: number | null | undefined): number {
  const n = value ?? 60;
  if (!Number.isInteger(n) || n < 1 || n > MAX_ACTIVITY_MINUTES)
    throw new DomainError(
      'INVALID_MINUTES',
      `minutes must be between 1 and ${MAX_ACTIVITY_MINUTES}, got ${n}`,
      'minutes',
    );
  return n;
}

/**
 * Billing's view of its amendment workflow for operators (the ops console): amendments by status,
 * and throughput and lag per minute. Read-only; the workflow itself is AmendmentService's.
 */
export class AmendmentMonitor {
  constructor(private readonly db: AnyDb) {}

  newestFirst(status: AmendmentStatus | null, beforeSeq: number | null, limit: number) {
    return findAmendmentsNewestFirst(this.db, status, beforeSeq, limit);
  }

  count(status: AmendmentStatus | null) {
    return countAmendments(this.db, status);
  }

  openCounts() {
    return countOpenAmendments(this.db);
  }

  activity(minutes: number) {
    return amendmentActivity(this.db, minutes);
  }
}
