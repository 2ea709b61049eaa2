import { DomainError } from './errors.ts';

/**
 * ISO 4217 minor-unit exponents of the currencies we bill in. A currency missing here is
 * rejected rather than guessed: a wrong exponent would shift every amount by a power of ten.
 */
const EXPONENTS: Readonly<Record<string, number>> = {
  AED: 2,
  ARS: 2,
  AUD: 2,
  BHD: 3,
  BRL: 2,
  CAD: 2,
  CHF: 2,
  CLP: 0,
  CNY: 2,
  COP: 2,
  CZK: 2,
  DKK: 2,
  EUR: 2,
  GBP: 2,
  HKD: 2,
  HUF: 2,
  IDR: 2,
  ILS: 2,
  INR: 2,
  ISK: 0,
  JOD: 3,
  JPY: 0,
  KRW: 0,
  KWD: 3,
  MXN: 2,
  MYR: 2,
  NOK: 2,
  NZD: 2,
  OMR: 3,
  PHP: 2,
  PLN: 2,
  QAR: 2,
  RON: 2,
  SAR: 2,
  SEK: 2,
  SGD: 2,
  THB: 2,
  TND: 3,
  TRY: 2,
  TWD: 2,
  UAH: 2,
  USD: 2,
  VND: 0,
  ZAR: 2,
};

/** Largest absolute minor amount we accept: keeps every sum exact in a JS number and a bigint column. */
export const MAX_MINOR = 10n ** 15n;

export function isSupportedCurrency(code: string): boolean {
  return Object.hasOwn(EXPONENTS, code);
}

export function supportedCurrencies(): string[] {
  return Object.keys(EXPONENTS);
}

/** Minor-unit exponent of an ISO 4217 currency; throws UNSUPPORTED_CURRENCY for anything else. */
export function currencyExponent(currency: string, field: string | null = 'currency'): number {
  const exponent = EXPONENTS[currency];
  if (exponent === undefined) {
    throw new DomainError(
      'UNSUPPORTED_CURRENCY',
      `"${currency}" is not a supported ISO 4217 currency`,
      field,
    );
  }
  return exponent;
}

const DECIMAL = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * Parses a decimal string such as "10.00" into integer minor units. Rejects floats in exponent
 * form, NaN, and more fraction digits than the currency has ( Money).
 */
export function parseDecimal(value: string, currency: string, field: string | null = 'amount'): number {
  const exponent = currencyExponent(currency);
  const match = typeof value === 'string' ? DECIMAL.exec(value) : null;
  if (!match) {
    throw new DomainError(
      'INVALID_AMOUNT',
      `amount must be a decimal string like "10.00", got ${JSON.stringify(value)}`,
      field,
    );
  }
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > exponent) {
    throw new DomainError(
      'INVALID_AMOUNT',
      `${currency} amounts have ${exponent} decimal places; "${value}" has ${fraction.length}`,
      field,
    );
  }
  const minor = BigInt(`${whole}${fraction.padEnd(exponent, '0')}`) * (sign === '-' ? -1n : 1n);
  if (minor > MAX_MINOR || minor < -MAX_MINOR) {
    throw new DomainError('AMOUNT_OUT_OF_RANGE', `amount ${value} ${currency} is out of range`, field);
  }
  return Number(minor);
}

/** Formats integer minor units as a Decimal string with exactly the currency's exponent digits. */
export function formatMinor(minor: number | bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const value = BigInt(minor);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return `${negative ? '-' : ''}${whole}${exponent > 0 ? `.${fraction}` : ''}`;
}

/** Money as GraphQL exposes it. */
export interface MoneyValue {
  amount: string;
  currency: string;
}

export function money(minor: number | bigint, currency: string): MoneyValue {
  return { amount: formatMinor(minor, currency), currency };
}

/** HALF_UP (away from zero on .5) division of two integers: the one rounding step every amount takes. */
export function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  if (denominator < 0n) return divideHalfUp(-numerator, -denominator);
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  const quotient = (abs * 2n + denominator) / (denominator * 2n);
  return negative ? -quotient : quotient;
}

/** HALF_UP(a × b / c) computed exactly on integers; returns a safe JS number. */
export function mulDivHalfUp(a: number | bigint, b: number | bigint, c: number | bigint): number {
  return toSafeNumber(divideHalfUp(BigInt(a) * BigInt(b), BigInt(c)));
}

export function toSafeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${value} exceeds the exact integer range`);
  }
  return Number(value);
}

/** Tax rates are stored as parts per million (19% = 190000) so that they stay integers. */
export const RATE_SCALE = 1_000_000;

/** HALF_UP(amount × rate) for a rate in parts per million. */
export function applyRate(amountMinor: number, ratePpm: number): number {
  return mulDivHalfUp(amountMinor, ratePpm, RATE_SCALE);
}

/** "0.19" style rendering of a ppm rate. */
export function formatRate(ratePpm: number): string {
  const text = formatScaled(BigInt(ratePpm), 6).replace(/0+$/, '');
  return text.endsWith('.') ? `${text}0` : text;
}

function formatScaled(value: bigint, scale: number): string {
  const digits = value.toString().padStart(scale + 1, '0');
  return `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}
