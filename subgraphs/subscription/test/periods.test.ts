import { describe, expect, it } from 'vitest';
import { periodAt } from '@c2c/platform/core';
import { renewalSchedule } from '../src/domain/subscription.rules.ts';

describe('billing periods ( anchored, clamped, from the anchor)', () => {
  it('walks Jan 31 → Feb 29 → Mar 31 → Apr 30 in a leap year', () => {
    const periods = [0, 1, 2, 3].map((k) => periodAt('2024-01-31', 'MONTH', k));
    expect(periods).toEqual([
      { start: '2024-01-31', end: '2024-02-29' },
      { start: '2024-02-29', end: '2024-03-31' },
      { start: '2024-03-31', end: '2024-04-30' },
      { start: '2024-04-30', end: '2024-05-31' },
    ]);
  });

  it('clamps to Feb 28 in a common year and returns to the 31st', () => {
    expect(periodAt('2025-01-31', 'MONTH', 1)).toEqual({ start: '2025-02-28', end: '2025-03-31' });
  });

  it('anchors yearly periods on Feb 29', () => {
    expect([0, 3, 4].map((k) => periodAt('2024-02-29', 'YEAR', k).start)).toEqual([
      '2024-02-29',
      '2027-02-28',
      '2028-02-29',
    ]);
  });
});

describe('renewal catch-up', () => {
  it('renews each ended period up to asOf, from the anchor', () => {
    expect(renewalSchedule('2025-12-31', 'MONTH', 0, '2026-03-10')).toEqual([
      { index: 1, period: { start: '2026-01-31', end: '2026-02-28' } },
      { index: 2, period: { start: '2026-02-28', end: '2026-03-31' } },
    ]);
  });

  it('renews a period that ends exactly on asOf (half-open)', () => {
    expect(renewalSchedule('2026-01-15', 'MONTH', 0, '2026-02-15')).toEqual([
      { index: 1, period: { start: '2026-02-15', end: '2026-03-15' } },
    ]);
  });

  it('renews nothing while the current period runs', () => {
    expect(renewalSchedule('2026-01-15', 'MONTH', 0, '2026-02-14')).toEqual([]);
    expect(renewalSchedule('2025-12-31', 'MONTH', 2, '2026-03-10')).toEqual([]);
  });

  it('continues from the current index', () => {
    expect(renewalSchedule('2025-12-31', 'MONTH', 1, '2026-03-10')).toEqual([
      { index: 2, period: { start: '2026-02-28', end: '2026-03-31' } },
    ]);
  });

  it('catches up yearly periods', () => {
    expect(renewalSchedule('2023-02-28', 'YEAR', 0, '2026-03-10').map((p) => p.period)).toEqual([
      { start: '2024-02-28', end: '2025-02-28' },
      { start: '2025-02-28', end: '2026-02-28' },
      { start: '2026-02-28', end: '2027-02-28' },
    ]);
  });
});
