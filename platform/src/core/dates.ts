import { DomainError } from './errors.ts';

/** A calendar date as "YYYY-MM-DD"; all arithmetic is on UTC day numbers, never local time. */
export type IsoDate = string;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

export function isValidIsoDate(value: unknown): value is IsoDate {
  if (typeof value !== 'string') return false;
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  if (y < 1900 || y > 2999 || m < 1 || m > 12) return false;
  return d >= 1 && d <= daysInMonth(y, m);
}

export function parseIsoDate(value: unknown, field: string | null = 'date'): IsoDate {
  if (!isValidIsoDate(value)) {
    throw new DomainError(
      'INVALID_DATE',
      `expected a calendar date YYYY-MM-DD, got ${JSON.stringify(value)}`,
      field,
    );
  }
  return value;
}

/** Days since 1970-01-01 for a calendar date. */
export function toDayNumber(date: IsoDate): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) / DAY_MS;
}

export function fromDayNumber(day: number): IsoDate {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(date: IsoDate, days: number): IsoDate {
  return fromDayNumber(toDayNumber(date) + days);
}

/** Number of days in the half-open interval [from, to). */
export function daysBetween(from: IsoDate, to: IsoDate): number {
  return toDayNumber(to) - toDayNumber(from);
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * The anchor date moved by `months`, with the day clamped to the target month's last day.
 * Always computed from the anchor, so Jan 31 → Feb 28/29 → Mar 31 ( periods).
 */
export function addMonthsClamped(anchor: IsoDate, months: number): IsoDate {
  const [y, m, d] = anchor.split('-').map(Number) as [number, number, number];
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const day = Math.min(d, daysInMonth(year, month));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export type PeriodUnit = 'MONTH' | 'YEAR';

export interface Period {
  start: IsoDate;
  end: IsoDate;
}

/** Period k (0-based) of a subscription anchored on `anchor`. */
export function periodAt(anchor: IsoDate, unit: PeriodUnit, k: number): Period {
  const step = unit === 'MONTH' ? 1 : 12;
  return { start: addMonthsClamped(anchor, k * step), end: addMonthsClamped(anchor, (k + 1) * step) };
}

/** "YYYY-MM" of a date. */
export function monthOf(date: IsoDate): string {
  return date.slice(0, 7);
}

/** A "YYYY-MM" month as the half-open date range [start, end) it covers; throws INVALID_MONTH. */
export function parseMonth(value: unknown, field: string | null = 'month'): { start: IsoDate; end: IsoDate } {
  if (typeof value !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(value)) {
    throw new DomainError(
      'INVALID_MONTH',
      `${field ?? 'month'} must be a month YYYY-MM, got ${JSON.stringify(value)}`,
      field,
    );
  }
  const start = `${value}-01`;
  return { start, end: startOfNextMonth(start) };
}

/** First day of the month after the month of `date`. */
export function startOfNextMonth(date: IsoDate): IsoDate {
  const [y, m] = date.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01-01` : `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}-01`;
}

/** Today's date in UTC from a clock. */
export function todayUtc(now: Date = new Date()): IsoDate {
  return now.toISOString().slice(0, 10);
}

/** An optional half-open date range [from, to): either end may be open (null). */
export interface DateRange {
  from: IsoDate | null;
  to: IsoDate | null;
}

/** A date range from optional arguments; throws INVALID_RANGE (on `from`) unless from < to. */
export function dateRange(from: IsoDate | null | undefined, to: IsoDate | null | undefined): DateRange {
  if (from && to && from >= to)
    throw new DomainError('INVALID_RANGE', `from (${from}) must be before to (${to})`, 'from');
  return { from: from ?? null, to: to ?? null };
}
