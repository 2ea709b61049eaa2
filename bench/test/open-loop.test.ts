import { describe, expect, it } from 'vitest';
import { arrivalSchedule, completionRate, sustained } from '../open-loop.ts';

describe('arrivalSchedule', () => {
  it('spaces rate × seconds arrivals 1 ÷ rate apart from 0, all before the end', () => {
    expect(arrivalSchedule(4, 1)).toEqual([0, 250, 500, 750]);
    const schedule = arrivalSchedule(16, 10);
    expect(schedule).toHaveLength(160);
    expect(schedule[1]).toBe(62.5);
    expect(schedule.at(-1)).toBe(159 * 62.5);
    expect(Math.max(...schedule)).toBeLessThan(10_000);
  });

  it('takes a fractional rate: 80 % of 20.1/s for 10 s is 161 arrivals (160.8 rounded up)', () => {
    const schedule = arrivalSchedule(16.08, 10);
    expect(schedule).toHaveLength(161);
    expect(schedule.at(-1)).toBeLessThan(10_000);
    expect(schedule[1]).toBeCloseTo(1000 / 16.08, 9);
  });

  it('has no arrivals for a rate or a duration that is not positive', () => {
    expect(arrivalSchedule(0, 10)).toEqual([]);
    expect(arrivalSchedule(-1, 10)).toEqual([]);
    expect(arrivalSchedule(10, 0)).toEqual([]);
    expect(arrivalSchedule(Number.NaN, 10)).toEqual([]);
  });
});

describe('completionRate', () => {
  it('gives back the offered rate when every arrival takes the same time', () => {
    const completions = arrivalSchedule(16, 10).map((t) => 5_000 + t + 300);
    expect(completionRate(completions)).toBeCloseTo(16, 9);
  });

  it('falls when a backlog grows: each completion later than the one before by more than the interval', () => {
    // Arrivals every 62.5 ms (16/s), served one at a time in 100 ms each: 10/s.
    const completions = arrivalSchedule(16, 10).map((_, i) => 100 * (i + 1));
    expect(completionRate(completions)).toBeCloseTo(10, 9);
  });

  it('does not depend on the order the completions are given in', () => {
    expect(completionRate([3000, 1000, 2000])).toBe(1);
  });

  it('is null without two distinct completion times', () => {
    expect(completionRate([])).toBeNull();
    expect(completionRate([5])).toBeNull();
    expect(completionRate([5, 5])).toBeNull();
  });
});

describe('sustained', () => {
  it('needs every arrival completed and at least 95 % of the offered rate', () => {
    expect(sustained(16, 15.3, 160, 160)).toBe(true);
    expect(sustained(16, 15.1, 160, 160)).toBe(false);
    expect(sustained(16, 16, 160, 159)).toBe(false);
    expect(sustained(16, null, 160, 160)).toBe(false);
    expect(sustained(16, 15.1, 160, 160, 0.9)).toBe(true);
  });
});
