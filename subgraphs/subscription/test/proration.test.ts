import { describe, expect, it } from 'vitest';
import { DomainError, formatMinor, periodAt } from '@c2c/platform/core';
import { workflowStatus, type StepState } from '../src/domain/amendment.rules.ts';
import { placeEffectiveDate, prorate, prorationLine } from '../src/domain/proration.ts';

/** Proration of `before → after` seats on `date`, formatted in the currency like GraphQL shows it. */
function prorated(
  currency: string,
  unitPriceMinor: number,
  period: { start: string; end: string },
  before: number,
  after: number,
  date: string,
) {
  const result = prorate({
    seatsBefore: before,
    seatsAfter: after,
    unitPriceMinor,
    period,
    effectiveDate: date,
  });
  return { ...result, amount: formatMinor(result.amountMinor, currency) };
}

describe('proration (docs/billing-rules.md §1)', () => {
  it('matches the the worked example: 9.95 USD × 25/31 = 8.024… → 8.02', () => {
    expect(prorated('USD', 995, { start: '2012-05-01', end: '2012-06-01' }, 1, 2, '2012-05-07')).toEqual({
      amountMinor: 802,
      seatDelta: 1,
      remainingDays: 25,
      periodDays: 31,
      amount: '8.02',
    });
  });

  it.each([
    // [label, currency, unit price (minor), period, before, after, date, expected amount, days]
    [
      'JPY (0 decimals), 28-day February, +3 seats',
      'JPY',
      1500,
      ['2026-02-01', '2026-03-01'],
      2,
      5,
      '2026-02-11',
      '2893',
      [18, 28],
    ], // 4500 × 18/28 = 2892.857…
    [
      'BHD (3 decimals), 29-day leap February, −1 seat',
      'BHD',
      12345,
      ['2024-02-01', '2024-03-01'],
      4,
      3,
      '2024-02-20',
      '-4.257',
      [10, 29],
    ], // −12.345 × 10/29 = −4.25689…
    [
      'USD, 30-day April, exact half period',
      'USD',
      1000,
      ['2026-04-01', '2026-05-01'],
      1,
      2,
      '2026-04-16',
      '5.00',
      [15, 30],
    ],
    [
      'USD, 31-day month, from the first day (a full period)',
      'USD',
      995,
      ['2026-01-01', '2026-02-01'],
      1,
      2,
      '2026-01-01',
      '9.95',
      [31, 31],
    ],
    [
      'USD, 31-day month, on its last day',
      'USD',
      995,
      ['2026-01-01', '2026-02-01'],
      1,
      2,
      '2026-01-31',
      '0.32',
      [1, 31],
    ], // 9.95/31 = 0.3209…
    [
      'EUR year plan, 365 days, +2 seats on 2025-07-01',
      'EUR',
      12000,
      ['2025-01-01', '2026-01-01'],
      10,
      12,
      '2025-07-01',
      '120.99',
      [184, 365],
    ], // 240 × 184/365 = 120.986…
    [
      'EUR year plan, 366-day leap year, −1 seat on 2024-03-01',
      'EUR',
      12000,
      ['2024-01-01', '2025-01-01'],
      10,
      9,
      '2024-03-01',
      '-100.33',
      [306, 366],
    ], // −120 × 306/366 = −100.327…
    [
      'KWD (3 decimals) year plan, −5 seats',
      'KWD',
      99999,
      ['2027-03-15', '2028-03-15'],
      8,
      3,
      '2027-12-01',
      '-143.441',
      [105, 366],
    ], // −499.995 × 105/366 = −143.4411…
  ] as const)(
    '%s',
    (_label, currency, price, [start, end], before, after, date, amount, [remaining, days]) => {
      const result = prorated(currency, price, { start, end }, before, after, date);
      expect(result.amount).toBe(amount);
      expect([result.remainingDays, result.periodDays]).toEqual([remaining, days]);
    },
  );

  it('rounds .5 ties HALF_UP, away from zero for increases and decreases alike', () => {
    const february = { start: '2026-02-01', end: '2026-03-01' }; // 28 days; 14 remain on the 15th
    expect(prorated('USD', 995, february, 1, 2, '2026-02-15').amount).toBe('4.98'); // 497.5 → 498
    expect(prorated('USD', 995, february, 2, 1, '2026-02-15').amount).toBe('-4.98'); // −497.5 → −498
    expect(prorated('JPY', 1, { start: '2026-04-01', end: '2026-05-01' }, 1, 2, '2026-04-16').amount).toBe(
      '1',
    ); // 0.5 → 1
    expect(prorated('JPY', 1, { start: '2026-04-01', end: '2026-05-01' }, 2, 1, '2026-04-16').amount).toBe(
      '-1',
    ); // −0.5 → −1
    // Off a tie it rounds to nearest: 995 × 13/28 = 461.96… → 462; 9.91 × 1/28 = 35.39… → 35.
    expect(prorated('USD', 995, february, 1, 2, '2026-02-16').amountMinor).toBe(462);
    expect(prorated('USD', 991, february, 1, 2, '2026-02-28').amountMinor).toBe(35);
  });

  it('rounds once on the exact rational, never per seat or per day', () => {
    // 7 × 9.95 × 25/31 = 56.169… → 56.17; per seat 8.02 × 7 would give 56.14.
    expect(prorated('USD', 995, { start: '2012-05-01', end: '2012-06-01' }, 1, 8, '2012-05-07').amount).toBe(
      '56.17',
    );
  });

  it('uses the anchored periods of month ends (Jan 31 → Feb 29 → Mar 31)', () => {
    const february = periodAt('2024-01-31', 'MONTH', 1);
    expect(february).toEqual({ start: '2024-02-29', end: '2024-03-31' });
    // 31 days; from 2024-03-15, 16 remain: 3 × 10.00 × 16/31 = 15.483… → 15.48.
    expect(prorated('USD', 1000, february, 2, 5, '2024-03-15')).toMatchObject({
      amount: '15.48',
      remainingDays: 16,
      periodDays: 31,
    });
  });

  it('prorates a cancellation as a credit for every seat over the rest of the period', () => {
    expect(prorated('USD', 995, { start: '2012-05-01', end: '2012-06-01' }, 3, 0, '2012-05-07').amount).toBe(
      '-24.07',
    ); // −29.85 × 25/31 = −24.072…
  });
});

describe('proration line and tax', () => {
  const period = { start: '2012-05-01', end: '2012-06-01' };
  const line = (before: number, after: number, ratePpm: number, unitPriceMinor = 995) =>
    prorationLine({
      description: 'Pro',
      proration: prorate({
        seatsBefore: before,
        seatsAfter: after,
        unitPriceMinor,
        period,
        effectiveDate: '2012-05-07',
      }),
      unitPriceMinor,
      ratePpm,
      effectiveDate: '2012-05-07',
      period,
    });

  it('bills the seat delta for [D, end) with tax HALF_UP on the line', () => {
    expect(line(1, 2, 190_000)).toEqual({
      description: 'Pro',
      quantity: 1,
      unitPriceMinor: 995,
      amountMinor: 802,
      taxRatePpm: 190_000,
      taxMinor: 152, // 8.02 × 0.19 = 1.5238
      periodStart: '2012-05-07',
      periodEnd: '2012-06-01',
    });
  });

  it('credits a decrease with negative quantity, amount and tax', () => {
    expect(line(2, 1, 190_000)).toMatchObject({ quantity: -1, amountMinor: -802, taxMinor: -152 });
  });

  it('rounds a .5 tax tie away from zero on credits too', () => {
    // 0.62 × 25/31 = 0.5 exactly → amount 50 minor; 50 × 19% = 9.5 → 10, and −9.5 → −10.
    expect(line(1, 2, 190_000, 62)).toMatchObject({ amountMinor: 50, taxMinor: 10 });
    expect(line(2, 1, 190_000, 62)).toMatchObject({ amountMinor: -50, taxMinor: -10 });
  });
});

describe('effective date placement', () => {
  const period = { start: '2026-03-01', end: '2026-04-01' };

  it('prorates inside [start, end) and schedules on the end', () => {
    expect(placeEffectiveDate(period, '2026-03-01')).toBe('IN_PERIOD');
    expect(placeEffectiveDate(period, '2026-03-31')).toBe('IN_PERIOD');
    expect(placeEffectiveDate(period, '2026-04-01')).toBe('AT_PERIOD_END');
  });

  it.each(['2026-02-28', '2026-04-02', '2025-03-15'])(
    'refuses %s with EFFECTIVE_DATE_OUT_OF_PERIOD',
    (date) => {
      try {
        placeEffectiveDate(period, date);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(DomainError);
        expect(error).toMatchObject({ code: 'EFFECTIVE_DATE_OUT_OF_PERIOD', field: 'effectiveDate' });
      }
    },
  );
});

describe('amendment workflow status', () => {
  const steps = (billing: string, erp: string, crm: string): StepState[] =>
    [
      { system: 'BILLING', status: billing },
      { system: 'ERP', status: erp },
      { system: 'CRM', status: crm },
    ] as StepState[];

  it.each([
    ['a document waiting for the ERP', steps('DONE', 'PENDING', 'PENDING'), true, 'INVOICED'],
    ['no document and no CRM ack yet', steps('DONE', 'SKIPPED', 'PENDING'), false, 'ACCEPTED'],
    ['posted, CRM pending', steps('DONE', 'DONE', 'PENDING'), true, 'POSTED'],
    ['CRM acknowledged before the ERP (out of order)', steps('DONE', 'PENDING', 'DONE'), true, 'INVOICED'],
    ['both acknowledged', steps('DONE', 'DONE', 'DONE'), true, 'COMPLETED'],
    ['no document, CRM acknowledged', steps('DONE', 'SKIPPED', 'DONE'), false, 'COMPLETED'],
    ['ERP dead-lettered', steps('DONE', 'FAILED', 'DONE'), true, 'EXCEPTION'],
    ['CRM dead-lettered after posting', steps('DONE', 'DONE', 'FAILED'), true, 'EXCEPTION'],
  ] as const)('%s → %s', (_label, state, hasDocument, expected) => {
    expect(workflowStatus(state, hasDocument)).toBe(expected);
  });
});
