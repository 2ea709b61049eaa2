import { describe, expect, it } from 'vitest';
import { DomainError, formatMinor } from '@c2c/platform/core';
import {
  formatQuantity,
  formatTierPrice,
  gracePassed,
  parseQuantity,
  parseTierPrice,
  periodContaining,
  ratedTotal,
  rateUsage,
  usagePricesOf,
  validateUsagePrices,
  type UsagePriceInput,
} from '../src/domain/usage.rules.ts';

/** A metered price in `currency` from compact tiers: [upTo | null, unit price]. */
function price(currency: string, included: string, tiers: [string | null, string][]) {
  const input: UsagePriceInput = {
    metric: 'api_calls',
    includedQuantity: included,
    tiers: tiers.map(([upTo, amount]) => ({ upTo, unitPrice: { amount, currency } })),
  };
  const [stored] = usagePricesOf(validateUsagePrices([input], currency), currency);
  if (!stored) throw new Error('no price');
  return stored;
}

/** The lines of a rating as "quantity × unit price = amount" in the currency, like an invoice shows them. */
function lines(currency: string, quantity: string, p: ReturnType<typeof price>) {
  return rateUsage(p, parseQuantity(quantity, 'q')).map(
    (c) => `${formatQuantity(c.quantityMicro)} × ${c.unitPrice} = ${formatMinor(c.amountMinor, currency)}`,
  );
}

function refusal(run: () => unknown): { code: string; field: string | null } {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, field: error.field };
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe('usage rating (DOMAIN.md "Usage")', () => {
  const graduated = price('USD', '1000', [
    ['10000', '0.01'],
    ['100000', '0.005'],
    [null, '0.0015'],
  ]);

  it('bills nothing up to the included quantity', () => {
    expect(lines('USD', '0', graduated)).toEqual([]);
    expect(lines('USD', '1000', graduated)).toEqual([]);
  });

  it('graduates over the billable quantity, one line per tier used', () => {
    // billable 150,000: 10,000 at 0.01, 90,000 at 0.005, 50,000 at 0.0015
    expect(lines('USD', '151000', graduated)).toEqual([
      '10000 × 0.01 = 100.00',
      '90000 × 0.005 = 450.00',
      '50000 × 0.0015 = 75.00',
    ]);
  });

  it('tier i covers (upTo[i−1], upTo[i]]: the bound itself stays in the lower tier', () => {
    expect(lines('USD', '11000', graduated)).toEqual(['10000 × 0.01 = 100.00']);
    expect(lines('USD', '11000.000001', graduated)).toEqual([
      '10000 × 0.01 = 100.00',
      '0.000001 × 0.005 = 0.00',
    ]);
  });

  it('rounds each line HALF_UP once to the currency exponent, sub-cent prices exact', () => {
    const subCent = price('EUR', '0', [[null, '0.0015']]);
    expect(lines('EUR', '3', subCent)).toEqual(['3 × 0.0015 = 0.00']); // 0.0045 → 0.00
    expect(lines('EUR', '10', subCent)).toEqual(['10 × 0.0015 = 0.02']); // 0.015 → 0.02 (half up)
    expect(lines('EUR', '9.999999', subCent)).toEqual(['9.999999 × 0.0015 = 0.01']); // 0.0149…
    const yen = price('JPY', '0', [[null, '0.5']]);
    expect(lines('JPY', '3', yen)).toEqual(['3 × 0.5 = 2']); // 1.5 → 2
    const dinar = price('BHD', '0.5', [[null, '0.0000005']]);
    expect(lines('BHD', '1000.5', dinar)).toEqual(['1000 × 0.0000005 = 0.001']); // 0.0005 → 0.001
  });

  it('re-rating a period with more usage never lowers the total (adjustments are never negative)', () => {
    let previous = 0;
    for (const q of ['0', '1000.5', '10999', '11000', '11001', '110999.9', '111001', '500000']) {
      const total = ratedTotal(rateUsage(graduated, parseQuantity(q, 'q')));
      expect(total).toBeGreaterThanOrEqual(previous);
      previous = total;
    }
  });

  it('keeps quantities and prices exact as decimal strings', () => {
    expect(formatQuantity(parseQuantity('0.000001', 'q'))).toBe('0.000001');
    expect(formatQuantity(parseQuantity('12.500000', 'q'))).toBe('12.5');
    expect(formatTierPrice(parseTierPrice('2', 'USD', 'p'), 'USD')).toBe('2.00');
    expect(formatTierPrice(parseTierPrice('0.00150000', 'EUR', 'p'), 'EUR')).toBe('0.0015');
  });

  it('refuses negative, malformed and over-precise quantities and prices', () => {
    expect(refusal(() => parseQuantity('-1', 'events[3].quantity'))).toEqual({
      code: 'INVALID_QUANTITY',
      field: 'events[3].quantity',
    });
    expect(refusal(() => parseQuantity('1.0000001', 'q')).code).toBe('INVALID_QUANTITY');
    expect(refusal(() => parseQuantity('1e3', 'q')).code).toBe('INVALID_QUANTITY');
    expect(refusal(() => parseQuantity('1000000001', 'q')).code).toBe('INVALID_QUANTITY');
    expect(refusal(() => parseTierPrice('0.000000001', 'USD', 'p')).code).toBe('INVALID_AMOUNT');
    expect(refusal(() => parseTierPrice('-0.01', 'USD', 'p')).code).toBe('INVALID_AMOUNT');
  });

  it('validates tiers: increasing bounds, only the last open, the plan currency', () => {
    const tier = (upTo: string | null, amount = '1.00', currency = 'USD') => ({
      upTo,
      unitPrice: { amount, currency },
    });
    const validate = (tiers: ReturnType<typeof tier>[]) => () =>
      validateUsagePrices([{ metric: 'storage_gb', includedQuantity: '0', tiers }], 'USD');
    expect(refusal(validate([tier('10'), tier('10'), tier(null)]))).toEqual({
      code: 'INVALID_USAGE_PRICE',
      field: 'usagePrices[0].tiers[1].upTo',
    });
    expect(refusal(validate([tier('10')])).field).toBe('usagePrices[0].tiers[0].upTo');
    expect(refusal(validate([tier(null), tier(null)])).field).toBe('usagePrices[0].tiers[0].upTo');
    expect(refusal(validate([tier(null, '1.00', 'EUR')])).code).toBe('CURRENCY_MISMATCH');
    expect(refusal(validate([])).field).toBe('usagePrices[0].tiers');
  });
});

describe('usage periods and grace', () => {
  const subscription = {
    start_date: '2026-01-31',
    billing_period: 'MONTH' as const,
    period_index: 2,
  };

  it('finds the anchored period of a UTC day, before or after the current one', () => {
    expect(periodContaining(subscription, '2026-02-28')).toEqual({ start: '2026-02-28', end: '2026-03-31' });
    expect(periodContaining(subscription, '2026-02-27')).toEqual({ start: '2026-01-31', end: '2026-02-28' });
    expect(periodContaining(subscription, '2026-05-30')).toEqual({ start: '2026-04-30', end: '2026-05-31' });
  });

  it('passes the 72-hour grace at 00:00 UTC three days after the period end', () => {
    expect(gracePassed('2026-02-01', '2026-02-03', 72)).toBe(false);
    expect(gracePassed('2026-02-01', '2026-02-04', 72)).toBe(true);
  });
});
