import { describe, expect, it } from 'vitest';
import { revenueSchedule } from '../src/domain/revenue-schedule.ts';

const sum = (shares: { amountMinor: number }[]) => shares.reduce((total, s) => total + s.amountMinor, 0);

describe('revenueSchedule (revenue recognition)', () => {
  it('splits 31.00 USD over 2026-01-15→2026-02-15 into 17.00 and 14.00', () => {
    expect(revenueSchedule(3100, '2026-01-15', '2026-02-15')).toEqual([
      { month: '2026-01', amountMinor: 1700 },
      { month: '2026-02', amountMinor: 1400 },
    ]);
  });

  it('spreads a yearly line over the 13 calendar months it touches and sums exactly', () => {
    const shares = revenueSchedule(99_999, '2026-03-17', '2027-03-17');
    expect(shares.map((s) => s.month)).toEqual([
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
      '2026-10',
      '2026-11',
      '2026-12',
      '2027-01',
      '2027-02',
      '2027-03',
    ]);
    expect(sum(shares)).toBe(99_999);
    // March 2026 has 15 of the 365 days: HALF_UP(99999 × 15 / 365) = 4109.5… → 4110.
    expect(shares[0]).toEqual({ month: '2026-03', amountMinor: 4110 });
    // April: 30 days → 8219.09… → 8219.
    expect(shares[1]).toEqual({ month: '2026-04', amountMinor: 8219 });
  });

  it('rounds negative amounts away from zero and still sums exactly (credit notes)', () => {
    const shares = revenueSchedule(-3100, '2026-01-15', '2026-02-15');
    expect(shares).toEqual([
      { month: '2026-01', amountMinor: -1700 },
      { month: '2026-02', amountMinor: -1400 },
    ]);
    const odd = revenueSchedule(-1001, '2026-01-31', '2026-04-01');
    expect(sum(odd)).toBe(-1001);
    // January gets 1 of 60 days: −16.68… → −17; February 28 days: −467.13… → −467; March takes the rest.
    expect(odd).toEqual([
      { month: '2026-01', amountMinor: -17 },
      { month: '2026-02', amountMinor: -467 },
      { month: '2026-03', amountMinor: -517 },
    ]);
  });

  it('works in minor units of any exponent (JPY has none)', () => {
    const shares = revenueSchedule(10_000, '2026-01-20', '2026-02-20');
    // 12 of 31 days: 3870.96… → 3871 yen; February takes 6129.
    expect(shares).toEqual([
      { month: '2026-01', amountMinor: 3871 },
      { month: '2026-02', amountMinor: 6129 },
    ]);
  });

  it('gives a period inside one month the whole amount', () => {
    expect(revenueSchedule(995, '2026-02-01', '2026-03-01')).toEqual([
      { month: '2026-02', amountMinor: 995 },
    ]);
    expect(revenueSchedule(1, '2026-05-10', '2026-05-11')).toEqual([{ month: '2026-05', amountMinor: 1 }]);
  });

  it('handles a leap February and a half-cent split that rounds up', () => {
    // 2028-02-15→2028-03-15: 15 + 14 days of 29; 1 × 15 / 29 rounds to 1, March takes 0.
    expect(revenueSchedule(1, '2028-02-15', '2028-03-15')).toEqual([
      { month: '2028-02', amountMinor: 1 },
      { month: '2028-03', amountMinor: 0 },
    ]);
    // Exactly half: 1 × 1 / 2 = 0.5 → 1 (HALF_UP), the last month takes 0.
    expect(revenueSchedule(1, '2026-01-31', '2026-02-02')).toEqual([
      { month: '2026-01', amountMinor: 1 },
      { month: '2026-02', amountMinor: 0 },
    ]);
  });

  it('refuses an empty or inverted period', () => {
    expect(() => revenueSchedule(100, '2026-01-01', '2026-01-01')).toThrow(RangeError);
    expect(() => revenueSchedule(100, '2026-02-01', '2026-01-01')).toThrow(RangeError);
  });
});
