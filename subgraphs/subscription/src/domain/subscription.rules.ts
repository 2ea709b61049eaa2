import { DomainError, isUuid, periodAt, toDayNumber, type IsoDate, type Period } from '@c2c/platform/core';
import type { BillingPeriod } from '../data/tables.ts';
import { SEAT_LIMIT } from './plan.rules.ts';

export function parseCustomerId(value: string): string {
  if (!isUuid(value)) throw unknownCustomer(value);
  return value.toLowerCase();
}

export function unknownCustomer(id: string): DomainError {
  return new DomainError(
    'UNKNOWN_CUSTOMER',
    `billing has no bill-to account for customer ${JSON.stringify(id)}: it is unknown, or its customer.created event has not arrived yet`,
    'customerId',
  );
}

/** Seats are a whole positive number; the plan's bounds are checked once the plan is known. */
export function validateSeats(
  seats: number,
  bounds: { minSeats: number; maxSeats: number } = { minSeats: 1, maxSeats: SEAT_LIMIT },
): number {
  if (!Number.isInteger(seats) || seats < bounds.minSeats || seats > bounds.maxSeats) {
    throw new DomainError(
      'INVALID_SEATS',
      `seats must be a whole number between ${bounds.minSeats} and ${bounds.maxSeats}, got ${seats}`,
      'seats',
    );
  }
  return seats;
}

export interface ScheduledPeriod {
  index: number;
  period: Period;
}

/**
 * The periods a billing run as of `asOf` must renew: each next period while the current one has
 * ended on or before `asOf` (catch-up), always computed from the anchor.
 */
export function renewalSchedule(
  anchor: IsoDate,
  unit: BillingPeriod,
  currentIndex: number,
  asOf: IsoDate,
): ScheduledPeriod[] {
  const due = toDayNumber(asOf);
  const schedule: ScheduledPeriod[] = [];
  let index = currentIndex;
  let end = periodAt(anchor, unit, index).end;
  while (toDayNumber(end) <= due) {
    index += 1;
    const period = periodAt(anchor, unit, index);
    schedule.push({ index, period });
    end = period.end;
  }
  return schedule;
}
