import { describe, expect, it } from 'vitest';
import { CostRateLimiter } from '../src/rate-limit.ts';

const config = { costPerMinute: 60_000, burst: 100 }; // 1 cost per ms

describe('CostRateLimiter', () => {
  it('charges cost from a bucket that refills over time, and says when to retry', () => {
    const limiter = new CostRateLimiter(config);
    expect(limiter.take('a', 80, 0)).toEqual({ ok: true, remaining: 20 });
    expect(limiter.take('a', 50, 0)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take('a', 50, 30)).toEqual({ ok: true, remaining: 0 });
    // Another principal has its own bucket.
    expect(limiter.take('b', 100, 30)).toEqual({ ok: true, remaining: 0 });
  });

  it('holds at most maxPrincipals buckets, however many principals come', () => {
    const limiter = new CostRateLimiter(config, 1_000);
    for (let i = 0; i < 10_000; i += 1) limiter.take(`p${i}`, 1, 0);
    expect(limiter.size).toBeLessThanOrEqual(1_000);
    expect(limiter.size).toBeGreaterThanOrEqual(500);
  });

  it('keeps the drained bucket of a principal that stays active while others come and go', () => {
    const limiter = new CostRateLimiter(config, 100);
    expect(limiter.take('hot', 100, 0).ok).toBe(true);
    for (let i = 0; i < 1_000; i += 1) {
      limiter.take(`cold${i}`, 1, 0);
      // The active principal is seen between the others and never gets a fresh bucket.
      if (i % 10 === 0) expect(limiter.take('hot', 1, 0).ok).toBe(false);
    }
  });

  it('forgets a principal only after a whole generation of others: it then starts full', () => {
    const limiter = new CostRateLimiter(config, 100);
    limiter.take('gone', 100, 0);
    for (let i = 0; i < 100; i += 1) limiter.take(`other${i}`, 1, 0);
    expect(limiter.take('gone', 100, 0).ok).toBe(true);
  });
});
