import { DomainError, toDayNumber, type IsoDate } from '@c2c/platform/core';
import type { PeriodSeatLine } from '../data/invoice.repository.ts';
import type { TaxRateChoice } from './invoice.rules.ts';

/**
 * Changes inside one period form a timeline (docs/billing-rules.md §1): a change dated before
 * the latest one already effective would prorate from a seat count that was not yet in force on
 * its date, so it is refused. A change on the same day as the latest one is fine.
 */
export function requireOnOrAfterLastChange(lastChange: IsoDate | null, effectiveDate: IsoDate): void {
  if (lastChange !== null && toDayNumber(effectiveDate) < toDayNumber(lastChange)) {
    throw new DomainError(
      'EFFECTIVE_DATE_BEFORE_LAST_CHANGE',
      `a change effective on ${lastChange} is already in force in this period; effectiveDate must be on or after it, got ${effectiveDate}`,
      'effectiveDate',
    );
  }
}

/** Seats removed by a credit note that were billed at one tax rate. */
export interface CreditedSeats {
  seats: number;
  rate: TaxRateChoice;
}

/**
 * Which rates the seats a decrease removes were billed at (docs/billing-rules.md §2: a credit note reverses tax
 * at the rate charged on the service it credits). The period's documents are replayed as a stack
 * of seat layers — an invoice line adds its seats at its rate, a credit line removes seats from
 * the top — and the decrease takes its seats from the top, newest first. Groups of equal rate are
 * merged, newest first. Seats no document billed (a proration that rounded to zero) are credited
 * at `fallback`, the rate of the oldest layer when there is one.
 */
export function creditedSeats(
  lines: readonly PeriodSeatLine[],
  seatsRemoved: number,
  fallback: TaxRateChoice,
): CreditedSeats[] {
  const stack: CreditedSeats[] = [];
  const take = (wanted: number): CreditedSeats[] => {
    const taken: CreditedSeats[] = [];
    let left = wanted;
    while (left > 0 && stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const seats = Math.min(left, top.seats);
      taken.push({ seats, rate: top.rate });
      top.seats -= seats;
      left -= seats;
      if (top.seats === 0) stack.pop();
    }
    if (left > 0) taken.push({ seats: left, rate: stack[0]?.rate ?? taken.at(-1)?.rate ?? fallback });
    return taken;
  };
  for (const line of lines) {
    const rate = { ratePpm: line.tax_rate_ppm, missing: line.tax_rate_missing };
    if (line.quantity > 0) stack.push({ seats: line.quantity, rate });
    else if (line.quantity < 0) take(-line.quantity);
  }
  const groups: CreditedSeats[] = [];
  for (const part of take(seatsRemoved)) {
    const last = groups.at(-1);
    if (last && last.rate.ratePpm === part.rate.ratePpm && last.rate.missing === part.rate.missing) {
      last.seats += part.seats;
    } else {
      groups.push({ ...part });
    }
  }
  return groups;
}
