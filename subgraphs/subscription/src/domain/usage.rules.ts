import {
  currencyExponent,
  divideHalfUp,
  DomainError,
  MAX_MINOR,
  periodAt,
  toDayNumber,
  toSafeNumber,
} from '@c2c/platform/core';

/*
 * Metered prices and their rating (docs/usage.md, DOMAIN.md "Usage"). Quantities are exact
 * micro-units (10^-6) as bigint; a tier's unit price is an integer at the currency's exponent + 6
 * digits, so that quantity × price is an integer at 10^-12 of a minor unit and one HALF_UP step
 * gives the line amount. No floats anywhere.
 */

/** Fractional digits a quantity may carry. */
export const QUANTITY_DIGITS = 6;
export const MICRO = 10n ** BigInt(QUANTITY_DIGITS);
/** Fractional digits a tier's unit price may carry beyond the currency's exponent. */
export const EXTRA_PRICE_DIGITS = 6;
/** Largest quantity one event may report (10^9 units): a stored event stays below 2^53 micro-units. */
export const MAX_EVENT_QUANTITY_MICRO = 10n ** 9n * MICRO;
/** Largest included quantity or tier bound. */
const MAX_PRICE_QUANTITY_MICRO = 10n ** 15n * MICRO;
export const MAX_METRICS_PER_PLAN = 20;
export const MAX_TIERS_PER_METRIC = 20;
const METRIC = /^[a-z][a-z0-9_.-]{0,63}$/;
const UNSIGNED_DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

export function isMetric(value: unknown): value is string {
  return typeof value === 'string' && METRIC.test(value);
}

/** One tier as stored: `upTo` null on the last tier; decimal strings, exact. */
export interface UsageTierDefinition {
  upTo: string | null;
  unitPrice: string;
}

/** One metered price of a plan as stored in `plan.usage_prices` and shown by `Plan.usagePrices`. */
export interface UsagePriceDefinition {
  metric: string;
  includedQuantity: string;
  tiers: UsageTierDefinition[];
}

/** A metered price ready to rate: every number as an exact integer. */
export interface UsagePrice {
  metric: string;
  includedMicro: bigint;
  tiers: { upToMicro: bigint | null; unitPriceScaled: bigint; unitPrice: string }[];
}

function parseUnsigned(value: unknown, digits: number, what: string, field: string, code: string): bigint {
  const match = typeof value === 'string' ? UNSIGNED_DECIMAL.exec(value) : null;
  if (!match) {
    const negative = typeof value === 'string' && value.startsWith('-');
    throw new DomainError(
      code,
      negative
        ? `${what} must not be negative, got ${JSON.stringify(value)}`
        : `${what} must be a decimal string like "12.5", got ${JSON.stringify(value)}`,
      field,
    );
  }
  const [, whole = '0', fraction = ''] = match;
  if (fraction.length > digits) {
    throw new DomainError(
      code,
      `${what} has at most ${digits} fractional digits; "${String(value)}" has ${fraction.length}`,
      field,
    );
  }
  return BigInt(`${whole}${fraction.padEnd(digits, '0')}`);
}

/** A usage quantity ("12.5") as exact micro-units; negative, malformed or > 6 digits is refused. */
export function parseQuantity(value: unknown, field: string, max = MAX_EVENT_QUANTITY_MICRO): bigint {
  const micro = parseUnsigned(value, QUANTITY_DIGITS, 'quantity', field, 'INVALID_QUANTITY');
  if (micro > max) {
    throw new DomainError('INVALID_QUANTITY', `quantity must be at most ${formatQuantity(max)}`, field);
  }
  return micro;
}

/** Micro-units as the shortest exact decimal string ("12.5", "3", "0.000001"). */
export function formatQuantity(micro: bigint): string {
  const negative = micro < 0n;
  const digits = (negative ? -micro : micro).toString().padStart(QUANTITY_DIGITS + 1, '0');
  const whole = digits.slice(0, -QUANTITY_DIGITS);
  const fraction = digits.slice(-QUANTITY_DIGITS).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** A tier's unit price as an integer at the currency's exponent + 6 fractional digits. */
export function parseTierPrice(value: unknown, currency: string, field: string): bigint {
  const exponent = currencyExponent(currency, field);
  const scaled = parseUnsigned(value, exponent + EXTRA_PRICE_DIGITS, 'unit price', field, 'INVALID_AMOUNT');
  if (scaled > MAX_MINOR * MICRO) {
    throw new DomainError('AMOUNT_OUT_OF_RANGE', `unit price ${String(value)} is out of range`, field);
  }
  return scaled;
}

/** A scaled unit price as a decimal string with at least the currency's digits ("0.0015", "2.00"). */
export function formatTierPrice(scaled: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const digits = exponent + EXTRA_PRICE_DIGITS;
  const text = scaled.toString().padStart(digits + 1, '0');
  const whole = text.slice(0, -digits);
  let fraction = text.slice(-digits);
  while (fraction.length > exponent && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  return `${whole}${fraction ? `.${fraction}` : ''}`;
}

export interface UsagePriceInput {
  metric: string;
  includedQuantity: string;
  tiers: readonly { upTo?: string | null; unitPrice: { amount: string; currency: string } }[];
}

/**
 * Validates a plan's metered prices (field paths like `usagePrices[0].tiers[1].upTo`) and returns
 * them normalized for storage: unique metrics, tier bounds strictly increasing, only the last tier
 * open-ended, every tier priced in the plan's currency.
 */
export function validateUsagePrices(
  inputs: readonly UsagePriceInput[],
  currency: string,
): UsagePriceDefinition[] {
  if (inputs.length > MAX_METRICS_PER_PLAN) {
    throw new DomainError(
      'INVALID_USAGE_PRICE',
      `a plan has at most ${MAX_METRICS_PER_PLAN} metered prices`,
      'usagePrices',
    );
  }
  const seen = new Set<string>();
  return inputs.map((input, i) => {
    const at = `usagePrices[${i}]`;
    if (!isMetric(input.metric)) {
      throw new DomainError(
        'INVALID_USAGE_PRICE',
        'metric must be 1–64 characters of a–z, 0–9, ".", "_" and "-", starting with a letter',
        `${at}.metric`,
      );
    }
    if (seen.has(input.metric)) {
      throw new DomainError('INVALID_USAGE_PRICE', `metric ${input.metric} is priced twice`, `${at}.metric`);
    }
    seen.add(input.metric);
    const included = parseQuantity(
      input.includedQuantity,
      `${at}.includedQuantity`,
      MAX_PRICE_QUANTITY_MICRO,
    );
    if (input.tiers.length === 0 || input.tiers.length > MAX_TIERS_PER_METRIC) {
      throw new DomainError(
        'INVALID_USAGE_PRICE',
        `a metered price has 1–${MAX_TIERS_PER_METRIC} tiers`,
        `${at}.tiers`,
      );
    }
    let previous = 0n;
    const tiers = input.tiers.map((tier, t) => {
      const tierAt = `${at}.tiers[${t}]`;
      const last = t === input.tiers.length - 1;
      if (tier.unitPrice.currency !== currency) {
        throw new DomainError(
          'CURRENCY_MISMATCH',
          `tier prices are in the plan's currency ${currency}, got ${tier.unitPrice.currency}`,
          `${tierAt}.unitPrice.currency`,
        );
      }
      const scaled = parseTierPrice(tier.unitPrice.amount, currency, `${tierAt}.unitPrice.amount`);
      const upTo = tier.upTo ?? null;
      if (last !== (upTo === null)) {
        throw new DomainError(
          'INVALID_USAGE_PRICE',
          last ? 'the last tier has no upTo (it is open-ended)' : 'every tier but the last needs upTo',
          `${tierAt}.upTo`,
        );
      }
      if (upTo !== null) {
        const bound = parseQuantity(upTo, `${tierAt}.upTo`, MAX_PRICE_QUANTITY_MICRO);
        if (bound <= previous) {
          throw new DomainError(
            'INVALID_USAGE_PRICE',
            `tier bounds must increase: upTo ${upTo} is not above ${formatQuantity(previous)}`,
            `${tierAt}.upTo`,
          );
        }
        previous = bound;
        return { upTo: formatQuantity(bound), unitPrice: formatTierPrice(scaled, currency) };
      }
      return { upTo: null, unitPrice: formatTierPrice(scaled, currency) };
    });
    return { metric: input.metric, includedQuantity: formatQuantity(included), tiers };
  });
}

/** Reads stored definitions (plan.usage_prices) into integers for rating. */
export function usagePricesOf(stored: unknown, currency: string): UsagePrice[] {
  if (!Array.isArray(stored)) return [];
  return (stored as UsagePriceDefinition[]).map((definition) => ({
    metric: definition.metric,
    includedMicro: parseQuantity(definition.includedQuantity, 'includedQuantity', MAX_PRICE_QUANTITY_MICRO),
    tiers: definition.tiers.map((tier) => ({
      upToMicro: tier.upTo === null ? null : parseQuantity(tier.upTo, 'upTo', MAX_PRICE_QUANTITY_MICRO),
      unitPriceScaled: parseTierPrice(tier.unitPrice, currency, 'unitPrice'),
      unitPrice: tier.unitPrice,
    })),
  }));
}

/** One tier used by a period's quantity: one invoice line. */
export interface TierCharge {
  /** 0-based tier index. */
  tier: number;
  quantityMicro: bigint;
  unitPriceScaled: bigint;
  unitPrice: string;
  amountMinor: number;
}

/** The billable quantity: the period's quantity minus the included quantity, never below 0. */
export function billableQuantity(price: UsagePrice, quantityMicro: bigint): bigint {
  const billable = quantityMicro - price.includedMicro;
  return billable > 0n ? billable : 0n;
}

/**
 * Rates a period's total quantity of one metric: graduated tiers over the billable quantity, tier i
 * covering (upTo[i−1], upTo[i]]; each tier used is one charge, HALF_UP(quantity × unit price) to
 * the currency's exponent.
 */
export function rateUsage(price: UsagePrice, quantityMicro: bigint): TierCharge[] {
  const billable = billableQuantity(price, quantityMicro);
  const charges: TierCharge[] = [];
  let lower = 0n;
  for (const [index, tier] of price.tiers.entries()) {
    if (billable <= lower) break;
    const upper = tier.upToMicro === null || tier.upToMicro > billable ? billable : tier.upToMicro;
    const inTier = upper - lower;
    const amount = divideHalfUp(inTier * tier.unitPriceScaled, MICRO * MICRO);
    if (amount > MAX_MINOR) {
      throw new DomainError(
        'AMOUNT_OUT_OF_RANGE',
        `usage of ${price.metric} exceeds the largest amount billing can hold`,
        null,
      );
    }
    charges.push({
      tier: index,
      quantityMicro: inTier,
      unitPriceScaled: tier.unitPriceScaled,
      unitPrice: tier.unitPrice,
      amountMinor: toSafeNumber(amount),
    });
    if (tier.upToMicro === null) break;
    lower = tier.upToMicro;
  }
  return charges;
}

/** The sum of a rating's charges, in minor units. */
export function ratedTotal(charges: readonly TierCharge[]): number {
  return charges.reduce((sum, charge) => sum + charge.amountMinor, 0);
}

/** Clock skew allowed on `occurredAt`: an event up to this far in the future is accepted. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Hours after a period's end during which its usage is still collected before it is invoiced. */
export const DEFAULT_USAGE_GRACE_HOURS = 72;
/** Events a recordUsage call may carry. */
export const MAX_EVENTS_PER_CALL = 1000;
const EVENT_ID = /^[\x21-\x7e]{1,255}$/;

export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID.test(value);
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;

/** An RFC 3339 date-time with its offset ("2026-03-05T14:03:11Z"), as the backbone's payload carries it. */
export function isDateTime(value: unknown): value is string {
  return typeof value === 'string' && DATE_TIME.test(value) && Number.isFinite(Date.parse(value));
}

/** The instant a period's grace ends: its end date (00:00 UTC) plus the grace hours. */
export function graceEnd(periodEnd: string, graceHours: number): number {
  return Date.parse(`${periodEnd}T00:00:00Z`) + graceHours * 3_600_000;
}

/** Whether a billing run as of `asOf` (a date: 00:00 UTC) is at or past a period's grace end. */
export function gracePassed(periodEnd: string, asOf: string, graceHours: number): boolean {
  return Date.parse(`${asOf}T00:00:00Z`) >= graceEnd(periodEnd, graceHours);
}

/** The usage line's text, e.g. "api_calls: 1,000–10,000 (tier 2), 2026-01-01 to 2026-02-01". */
export function usageLineDescription(
  metric: string,
  charge: { tier: number; quantityMicro: bigint },
  period: { start: string; end: string },
): string {
  return `${metric} usage, tier ${charge.tier + 1}: ${formatQuantity(charge.quantityMicro)}, ${period.start} to ${period.end}`;
}

export function usageAdjustmentDescription(metric: string, period: { start: string; end: string }): string {
  return `${metric} usage adjustment (late usage re-rated), ${period.start} to ${period.end}`;
}

/** Finds the billing period (by index) of a subscription containing a UTC date. */
export function periodContaining(
  subscription: { start_date: string; billing_period: 'MONTH' | 'YEAR'; period_index: number },
  day: string,
): { start: string; end: string } {
  const target = toDayNumber(day);
  // Start from the current period and walk: events cluster around it.
  let index = subscription.period_index;
  let period = periodAt(subscription.start_date, subscription.billing_period, index);
  while (toDayNumber(period.start) > target && index > 0) {
    index -= 1;
    period = periodAt(subscription.start_date, subscription.billing_period, index);
  }
  while (toDayNumber(period.end) <= target) {
    index += 1;
    period = periodAt(subscription.start_date, subscription.billing_period, index);
  }
  return period;
}
