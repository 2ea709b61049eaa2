import {
  applyRate,
  daysBetween,
  DomainError,
  MAX_MINOR,
  toDayNumber,
  divideHalfUp,
  formatRate,
  type IsoDate,
  type Period,
} from '@c2c/platform/core';
import type { LineDraft } from './invoice.rules.ts';

/** Where an effective date falls relative to the current period (docs/billing-rules.md §1). */
export type EffectiveDatePlacement = 'IN_PERIOD' | 'AT_PERIOD_END';

/**
 * `start ≤ D < end` is prorated; `D = end` is scheduled for the renewal; anything else is refused.
 */
export function placeEffectiveDate(period: Period, date: IsoDate): EffectiveDatePlacement {
  const day = toDayNumber(date);
  if (day === toDayNumber(period.end)) return 'AT_PERIOD_END';
  if (toDayNumber(period.start) <= day && day < toDayNumber(period.end)) return 'IN_PERIOD';
  throw new DomainError(
    'EFFECTIVE_DATE_OUT_OF_PERIOD',
    `effectiveDate must lie in the current period [${period.start}, ${period.end}) or on its end ${period.end}, got ${date}`,
    'effectiveDate',
  );
}

export interface ProrationRequest {
  seatsBefore: number;
  seatsAfter: number;
  unitPriceMinor: number;
  period: Period;
  effectiveDate: IsoDate;
}

export interface Proration {
  /** HALF_UP((after − before) × unit price × remainingDays / periodDays): the one rounding step. */
  amountMinor: number;
  seatDelta: number;
  remainingDays: number;
  periodDays: number;
}

/** The exact proration of a seat change for the rest of the current period, rounded once. */
export function prorate(request: ProrationRequest): Proration {
  const seatDelta = request.seatsAfter - request.seatsBefore;
  const remainingDays = daysBetween(request.effectiveDate, request.period.end);
  const periodDays = daysBetween(request.period.start, request.period.end);
  if (periodDays <= 0 || remainingDays <= 0 || remainingDays > periodDays) {
    throw new RangeError(
      `effective date ${request.effectiveDate} is not inside [${request.period.start}, ${request.period.end})`,
    );
  }
  const amount = divideHalfUp(
    BigInt(seatDelta) * BigInt(request.unitPriceMinor) * BigInt(remainingDays),
    BigInt(periodDays),
  );
  if (amount > MAX_MINOR || amount < -MAX_MINOR) {
    throw new DomainError(
      'AMOUNT_OUT_OF_RANGE',
      'the proration of this seat change exceeds the largest amount billing can hold',
      'seats',
    );
  }
  return { amountMinor: Number(amount), seatDelta, remainingDays, periodDays };
}

/** The one proration line: service [D, end), quantity = seat delta, tax HALF_UP on the line. */
export function prorationLine(input: {
  description: string;
  proration: Proration;
  unitPriceMinor: number;
  ratePpm: number;
  effectiveDate: IsoDate;
  period: Period;
}): LineDraft {
  return {
    description: input.description,
    quantity: input.proration.seatDelta,
    unitPriceMinor: input.unitPriceMinor,
    amountMinor: input.proration.amountMinor,
    taxRatePpm: input.ratePpm,
    taxMinor: applyRate(input.proration.amountMinor, input.ratePpm),
    periodStart: input.effectiveDate,
    periodEnd: input.period.end,
  };
}

/**
 * The lines of a proration whose seats were billed at several tax rates (a credit note reverses
 * each part at the rate it was charged at): `parts` split |seat delta|, in order. The document's
 * total stays the one rounding of the whole change; each line is the difference of two rounded
 * cumulative shares of the exact amount, so the lines sum to it exactly.
 */
export function prorationLines(input: {
  description: string;
  proration: Proration;
  unitPriceMinor: number;
  parts: readonly { seats: number; ratePpm: number }[];
  effectiveDate: IsoDate;
  period: Period;
}): LineDraft[] {
  const { proration } = input;
  const sign = proration.seatDelta < 0 ? -1 : 1;
  const share = (seats: number) =>
    Number(
      divideHalfUp(
        BigInt(sign * seats) * BigInt(input.unitPriceMinor) * BigInt(proration.remainingDays),
        BigInt(proration.periodDays),
      ),
    );
  const lines: LineDraft[] = [];
  let seatsSoFar = 0;
  let amountSoFar = 0;
  for (const part of input.parts) {
    seatsSoFar += part.seats;
    const cumulative =
      seatsSoFar === Math.abs(proration.seatDelta) ? proration.amountMinor : share(seatsSoFar);
    const amountMinor = cumulative - amountSoFar;
    amountSoFar = cumulative;
    lines.push({
      description:
        input.parts.length === 1
          ? input.description
          : `${input.description}: ${part.seats} ${part.seats === 1 ? 'seat' : 'seats'} billed at ${formatRate(part.ratePpm * 100).replace(/\.0$/, '')}%`,
      quantity: sign * part.seats,
      unitPriceMinor: input.unitPriceMinor,
      amountMinor,
      taxRatePpm: part.ratePpm,
      taxMinor: applyRate(amountMinor, part.ratePpm),
      periodStart: input.effectiveDate,
      periodEnd: input.period.end,
    });
  }
  return lines;
}

export function prorationLineDescription(
  planName: string,
  seatsBefore: number,
  seatsAfter: number,
  proration: Proration,
  effectiveDate: IsoDate,
  period: Period,
): string {
  return (
    `${planName}: ${seatsBefore} → ${seatsAfter} seats from ${effectiveDate} to ${period.end}` +
    ` (${proration.remainingDays}/${proration.periodDays} days)`
  );
}
