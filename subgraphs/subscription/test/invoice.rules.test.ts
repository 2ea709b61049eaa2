import { describe, expect, it } from 'vitest';
import { DomainError, formatMinor } from '@c2c/platform/core';
import {
  firstInvoiceDates,
  invoiceTotals,
  pickTaxRate,
  renewalInvoiceDates,
  seatLine,
  type DatedRate,
} from '../src/domain/invoice.rules.ts';

const period = { start: '2026-03-01', end: '2026-04-01' };
const line = (seats: number, unitPriceMinor: number, ratePpm: number) =>
  seatLine({ description: 'Pro', seats, unitPriceMinor, ratePpm, period });

const rate = (
  country: string,
  region: string | null,
  rate_ppm: number,
  valid_from: string,
  valid_to: string | null = null,
): DatedRate => ({
  country,
  region,
  rate_ppm,
  valid_from,
  valid_to,
});

const RATES: DatedRate[] = [
  rate('DE', null, 190_000, '2007-01-01', '2020-07-01'),
  rate('DE', null, 160_000, '2020-07-01', '2021-01-01'),
  rate('DE', null, 190_000, '2021-01-01'),
  rate('CA', null, 50_000, '2008-01-01'),
  rate('CA', 'ON', 130_000, '2010-07-01'),
  rate('US', 'NY', 40_000, '2005-06-01'),
  rate('US', 'CA', 72_500, '2017-01-01'),
];

describe('seat line and tax ( Money, Tax)', () => {
  it('multiplies seats by the unit price exactly and rounds the tax once, HALF_UP', () => {
    const l = line(3, 995, 72_500); // 29.85 USD × 7.25% = 2.164125
    expect(l).toMatchObject({
      quantity: 3,
      unitPriceMinor: 995,
      amountMinor: 2985,
      taxMinor: 216,
      taxRatePpm: 72_500,
    });
    expect(l).toMatchObject({ periodStart: '2026-03-01', periodEnd: '2026-04-01' });
  });

  it.each([
    ['USD .5 rounds up', 250, 190_000, 48], // 2.50 × 19% = 0.475
    ['USD just below .5 rounds down', 249, 190_000, 47], // 0.4731
    ['USD credit rounds away from zero', -250, 190_000, -48],
    ['JPY (0 decimals) .5 rounds up', 1255, 100_000, 126], // ¥125.5
    ['BHD (3 decimals) .5 rounds up', 12_345, 100_000, 1235], // 1.2345 BHD
    ['a zero rate is zero tax', 999_999, 0, 0],
  ])('%s', (_label, amountMinor, ratePpm, taxMinor) => {
    expect(line(amountMinor < 0 ? -1 : 1, Math.abs(amountMinor), ratePpm).taxMinor).toBe(taxMinor);
  });

  it('formats JPY and BHD totals with their exponents', () => {
    const jpy = invoiceTotals([line(3, 1_250, 100_000)]);
    expect(formatMinor(jpy.totalMinor, 'JPY')).toBe('4125');
    const bhd = invoiceTotals([line(2, 12_345, 100_000)]);
    expect(bhd).toEqual({ subtotalMinor: 24_690, taxMinor: 2_469, totalMinor: 27_159 });
    expect(formatMinor(bhd.totalMinor, 'BHD')).toBe('27.159');
  });

  it('sums already rounded lines without rounding again', () => {
    expect(invoiceTotals([line(1, 250, 190_000), line(1, 250, 190_000)])).toEqual({
      subtotalMinor: 500,
      taxMinor: 96,
      totalMinor: 596,
    });
  });

  it('refuses an amount beyond what billing can hold exactly', () => {
    expect(() => line(1_000_000, 10 ** 12, 0)).toThrow(DomainError);
  });
});

describe('tax rate lookup', () => {
  it.each([
    ['the country rate', 'DE', null, '2026-03-10', 190_000, false],
    ['the rate valid on the date (2020 VAT cut)', 'DE', null, '2020-08-15', 160_000, false],
    ['the day the cut ended', 'DE', null, '2021-01-01', 190_000, false],
    ['a region row before the country row', 'CA', 'ON', '2026-03-10', 130_000, false],
    ['a region compared without case or spaces', 'CA', ' on ', '2026-03-10', 130_000, false],
    ['the country row for a region without its own', 'CA', 'BC', '2026-03-10', 50_000, false],
    ['a US state', 'US', 'NY', '2026-03-10', 40_000, false],
    ['no US country-level rate', 'US', null, '2026-03-10', 0, true],
    ['no rate before the state rate started', 'US', 'CA', '2016-12-31', 0, true],
    ['an unknown country', 'KW', null, '2026-03-10', 0, true],
  ])('picks %s', (_label, country, region, on, ratePpm, missing) => {
    expect(pickTaxRate(RATES, country, region, on)).toEqual({ ratePpm, missing });
  });
});

describe('issue and due dates', () => {
  it('issues a back-dated first period on its start date, due 30 days later', () => {
    expect(firstInvoiceDates('2025-12-31', '2026-03-10')).toEqual({
      issuedOn: '2025-12-31',
      dueOn: '2026-01-30',
    });
  });
  it('issues a future first period today', () => {
    expect(firstInvoiceDates('2026-06-01', '2026-03-10')).toEqual({
      issuedOn: '2026-03-10',
      dueOn: '2026-04-09',
    });
  });
  it('issues a renewal on the new period start', () => {
    expect(renewalInvoiceDates('2026-02-28')).toEqual({ issuedOn: '2026-02-28', dueOn: '2026-03-30' });
  });
});
