import { describe, expect, it } from 'vitest';
import { DomainError } from '../src/core/errors.ts';
import { addMonthsClamped, dateRange, daysBetween, isValidIsoDate, periodAt } from '../src/core/dates.ts';

describe('billing periods anchored on the start date', () => {
  it('clamps to month ends, always from the anchor: Jan 31 → Feb 29 → Mar 31 → Apr 30', () => {
    expect([1, 2, 3].map((k) => addMonthsClamped('2024-01-31', k))).toEqual([
      '2024-02-29',
      '2024-03-31',
      '2024-04-30',
    ]);
    expect(addMonthsClamped('2025-01-31', 1)).toBe('2025-02-28');
    expect(periodAt('2024-01-31', 'MONTH', 1)).toEqual({ start: '2024-02-29', end: '2024-03-31' });
  });

  it('handles yearly periods from Feb 29', () => {
    expect(periodAt('2024-02-29', 'YEAR', 0)).toEqual({ start: '2024-02-29', end: '2025-02-28' });
    expect(periodAt('2024-02-29', 'YEAR', 4)).toEqual({ start: '2028-02-29', end: '2029-02-28' });
  });

  it('counts days of half-open intervals', () => {
    expect(daysBetween('2012-05-01', '2012-06-01')).toBe(31);
    expect(daysBetween('2012-05-07', '2012-06-01')).toBe(25);
  });

  it.each(['2026-02-30', '2026-13-01', '26-01-01', '2026-1-1', 'yesterday', '', '2026-02-28T00:00:00Z'])(
    'rejects %j as a date',
    (value) => expect(isValidIsoDate(value)).toBe(false),
  );
});

describe('date ranges', () => {
  it('keeps open ends as null and refuses an empty or reversed range on `from`', () => {
    expect(dateRange(undefined, '2025-02-01')).toEqual({ from: null, to: '2025-02-01' });
    expect(dateRange('2025-01-01', null)).toEqual({ from: '2025-01-01', to: null });
    expect(() => dateRange('2025-02-01', '2025-02-01')).toThrow(DomainError);
    expect(() => dateRange('2025-03-01', '2025-02-01')).toThrow(/from \(2025-03-01\) must be before to/);
  });
});
