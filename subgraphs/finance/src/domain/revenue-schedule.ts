import { daysBetween, monthOf, mulDivHalfUp, startOfNextMonth, type IsoDate } from '@c2c/platform/core';

export interface RevenueMonthShare {
  /** "YYYY-MM". */
  month: string;
  amountMinor: number;
}

/**
 * Spreads a line amount daily and ratably over its service period [start, end) (the ledger).
 * Each calendar month gets HALF_UP(amount × days in month / total days) of the exact rational
 * share; the last month takes the remainder so the schedule sums exactly to the line, whatever
 * the sign of the amount (credit notes are negative).
 */
export function revenueSchedule(amountMinor: number, start: IsoDate, end: IsoDate): RevenueMonthShare[] {
  const totalDays = daysBetween(start, end);
  if (!Number.isSafeInteger(amountMinor))
    throw new RangeError(`amount ${amountMinor} is not an integer of minor units`);
  if (totalDays <= 0) throw new RangeError(`service period ${start}→${end} is empty`);
  const shares: RevenueMonthShare[] = [];
  let allocated = 0;
  for (let from = start; from < end;) {
    const next = startOfNextMonth(from);
    const to = next < end ? next : end;
    const share =
      to === end ? amountMinor - allocated : mulDivHalfUp(amountMinor, daysBetween(from, to), totalDays);
    shares.push({ month: monthOf(from), amountMinor: share });
    allocated += share;
    from = to;
  }
  return shares;
}
