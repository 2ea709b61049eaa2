import {
  addDays,
  applyRate,
  DomainError,
  MAX_MINOR,
  toDayNumber,
  type IsoDate,
  type Period,
} from '@c2c/platform/core';

export const PAYMENT_TERM_DAYS = 30;

export interface DatedRate {
  country: string;
  region: string | null;
  rate_ppm: number;
  valid_from: string;
  valid_to: string | null;
}

export interface TaxRateChoice {
  ratePpm: number;
  /** No row matched: taxed at 0 and flagged on the invoice (tax: one HALF_UP rounding per rate). */
  missing: boolean;
}

function validOn(rate: DatedRate, on: IsoDate): boolean {
  const day = toDayNumber(on);
  return toDayNumber(rate.valid_from) <= day && (rate.valid_to === null || day < toDayNumber(rate.valid_to));
}

const normalizeRegion = (region: string | null) => region?.trim().toUpperCase() || null;

/** The rate valid on `on` for a bill-to address: its region's row first, else the country's. */
export function pickTaxRate(
  rates: readonly DatedRate[],
  country: string,
  region: string | null,
  on: IsoDate,
): TaxRateChoice {
  const wanted = normalizeRegion(region);
  const candidates = rates.filter((rate) => rate.country === country && validOn(rate, on));
  const regional =
    wanted === null ? undefined : candidates.find((rate) => normalizeRegion(rate.region) === wanted);
  const national = candidates.find((rate) => rate.region === null);
  const chosen = regional ?? national;
  return chosen ? { ratePpm: chosen.rate_ppm, missing: false } : { ratePpm: 0, missing: true };
}

export interface LineDraft {
  description: string;
  quantity: number;
  unitPriceMinor: number;
  amountMinor: number;
  taxRatePpm: number;
  taxMinor: number;
  periodStart: IsoDate;
  periodEnd: IsoDate;
  /** A usage line's metric, exact quantity and tier unit price (null on an adjustment); absent on seat lines. */
  usage?: { metric: string; quantity: string; unitPrice: string | null; adjustment: boolean };
}

/** A full-period seat line: amount = seats × unit price (exact), tax HALF_UP once on the line. */
export function seatLine(input: {
  description: string;
  seats: number;
  unitPriceMinor: number;
  ratePpm: number;
  period: Period;
}): LineDraft {
  const amount = BigInt(input.seats) * BigInt(input.unitPriceMinor);
  if (amount > MAX_MINOR || amount < -MAX_MINOR) {
    throw new DomainError(
      'AMOUNT_OUT_OF_RANGE',
      `${input.seats} seats at this price exceed the largest amount billing can hold`,
      'seats',
    );
  }
  const amountMinor = Number(amount);
  return {
    description: input.description,
    quantity: input.seats,
    unitPriceMinor: input.unitPriceMinor,
    amountMinor,
    taxRatePpm: input.ratePpm,
    taxMinor: applyRate(amountMinor, input.ratePpm),
    periodStart: input.period.start,
    periodEnd: input.period.end,
  };
}

/**
 * A seat count must stay billable at renewal: checked when a change is made (scheduled or
 * effective now), so that the billing run never meets a period it cannot invoice.
 */
export function requireRenewableSeats(seats: number, unitPriceMinor: number): void {
  const amount = BigInt(seats) * BigInt(unitPriceMinor);
  if (amount > MAX_MINOR || amount < -MAX_MINOR) {
    throw new DomainError(
      'AMOUNT_OUT_OF_RANGE',
      `${seats} seats at this price would renew for more than the largest amount billing can hold`,
      'seats',
    );
  }
}

export interface InvoiceTotals {
  subtotalMinor: number;
  taxMinor: number;
  totalMinor: number;
}

/** Sums of already rounded lines: nothing is rounded again here. */
export function invoiceTotals(lines: readonly LineDraft[]): InvoiceTotals {
  const subtotalMinor = lines.reduce((sum, line) => sum + line.amountMinor, 0);
  const taxMinor = lines.reduce((sum, line) => sum + line.taxMinor, 0);
  return { subtotalMinor, taxMinor, totalMinor: subtotalMinor + taxMinor };
}

/** Billing is in advance: issued on the service start, or today when that lies in the future. */
export function firstInvoiceDates(startDate: IsoDate, today: IsoDate): { issuedOn: IsoDate; dueOn: IsoDate } {
  const issuedOn = toDayNumber(startDate) <= toDayNumber(today) ? startDate : today;
  return { issuedOn, dueOn: addDays(issuedOn, PAYMENT_TERM_DAYS) };
}

export function renewalInvoiceDates(periodStart: IsoDate): { issuedOn: IsoDate; dueOn: IsoDate } {
  return { issuedOn: periodStart, dueOn: addDays(periodStart, PAYMENT_TERM_DAYS) };
}

export function seatLineDescription(planName: string, seats: number, period: Period): string {
  return `${planName}: ${seats} ${seats === 1 ? 'seat' : 'seats'}, ${period.start} to ${period.end}`;
}
