import { cleanName, currencyExponent, DomainError, parseDecimal } from '@c2c/platform/core';
import type { BillingPeriod } from '../data/tables.ts';

const PLAN_CODE = /^[A-Z0-9][A-Z0-9_-]{0,63}$/;
export const BILLING_PERIODS: readonly BillingPeriod[] = ['MONTH', 'YEAR'];
export const DEFAULT_MIN_SEATS = 1;
export const DEFAULT_MAX_SEATS = 10_000;
export const SEAT_LIMIT = 1_000_000;

export function isPlanCode(value: unknown): value is string {
  return typeof value === 'string' && PLAN_CODE.test(value);
}

export function validatePlanCode(value: string): string {
  if (!isPlanCode(value)) {
    throw new DomainError(
      'INVALID_PLAN_CODE',
      'code must be 1–64 characters of A–Z, 0–9, "-" and "_", starting with a letter or digit',
      'code',
    );
  }
  return value;
}

export function validateBillingPeriod(value: string): BillingPeriod {
  if ((BILLING_PERIODS as readonly string[]).includes(value)) return value as BillingPeriod;
  throw new DomainError(
    'INVALID_BILLING_PERIOD',
    `billingPeriod must be one of ${BILLING_PERIODS.join(', ')}`,
    'billingPeriod',
  );
}

/** A positive unit price in a supported currency, as integer minor units. */
export function parseUnitPrice(
  amount: string,
  currency: string,
): { unitPriceMinor: number; currency: string } {
  currencyExponent(currency, 'unitPrice.currency');
  const unitPriceMinor = parseDecimal(amount, currency, 'unitPrice.amount');
  if (unitPriceMinor <= 0) {
    throw new DomainError(
      'INVALID_AMOUNT',
      `unit price must be positive, got ${amount} ${currency}`,
      'unitPrice.amount',
    );
  }
  return { unitPriceMinor, currency };
}

export function validateSeatBounds(
  minSeats: number | null | undefined,
  maxSeats: number | null | undefined,
): { minSeats: number; maxSeats: number } {
  const min = minSeats ?? DEFAULT_MIN_SEATS;
  const max = maxSeats ?? DEFAULT_MAX_SEATS;
  if (!Number.isInteger(min) || min < 1 || min > SEAT_LIMIT) {
    throw new DomainError(
      'INVALID_SEAT_BOUNDS',
      `minSeats must be between 1 and ${SEAT_LIMIT}, got ${min}`,
      'minSeats',
    );
  }
  if (!Number.isInteger(max) || max < min || max > SEAT_LIMIT) {
    throw new DomainError(
      'INVALID_SEAT_BOUNDS',
      `maxSeats must be between minSeats (${min}) and ${SEAT_LIMIT}, got ${max}`,
      'maxSeats',
    );
  }
  return { minSeats: min, maxSeats: max };
}

export function validatePlanName(value: string): string {
  return cleanName(value, 'name', 200);
}
