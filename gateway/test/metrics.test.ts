import { describe, expect, it } from 'vitest';
import { CountingLruCache, differencesByBusinessUnit, fetchOutcome } from '../src/metrics.ts';
import { SubgraphUnavailable } from '../src/subgraph-fetcher.ts';

describe('CountingLruCache', () => {
  it('counts hits and misses and evicts the least recently used entry', async () => {
    const lookups: boolean[] = [];
    const cache = new CountingLruCache<string>(2, (hit) => lookups.push(hit));
    expect(await cache.get('a')).toBeUndefined();
    await cache.set('a', 'plan a');
    await cache.set('b', 'plan b');
    expect(await cache.get('a')).toBe('plan a'); // a is now the most recent
    await cache.set('c', 'plan c'); // evicts b
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('c')).toBe('plan c');
    expect(lookups).toEqual([false, true, false, true]);
    expect(cache.size).toBe(2);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});

describe('fetchOutcome', () => {
  it('names responses by status class and failures by reason', () => {
    expect(fetchOutcome({ status: 200 })).toBe('ok');
    expect(fetchOutcome({ status: 401 })).toBe('status_4xx');
    expect(fetchOutcome({ status: 503 })).toBe('status_5xx');
    expect(fetchOutcome(new SubgraphUnavailable('finance', 'timeout'))).toBe('timeout');
    expect(fetchOutcome(new SubgraphUnavailable('finance', 'circuit-open'))).toBe('circuit_open');
    expect(fetchOutcome(new Error('other'))).toBe('error');
  });
});

describe('differencesByBusinessUnit', () => {
  const bucket = { currency: 'USD', month: '2026-03', kind: 'INVOICE' as const };
  it('counts the differing buckets per business unit that documents in flight do not explain', () => {
    const billing = [
      // EMEA: one document in flight explains the difference.
      {
        ...bucket,
        businessUnit: 'EMEA',
        count: 3,
        totalMinor: 300,
        inFlightCount: 1,
        inFlightTotalMinor: 100,
      },
      // NA: a real difference of 50 in USD and one in EUR.
      { ...bucket, businessUnit: 'NA', count: 2, totalMinor: 250, inFlightCount: 0, inFlightTotalMinor: 0 },
      {
        ...bucket,
        currency: 'EUR',
        businessUnit: 'NA',
        count: 1,
        totalMinor: 10,
        inFlightCount: 0,
        inFlightTotalMinor: 0,
      },
      // APAC agrees.
      { ...bucket, businessUnit: 'APAC', count: 1, totalMinor: 99, inFlightCount: 0, inFlightTotalMinor: 0 },
    ];
    const erp = [
      { ...bucket, businessUnit: 'EMEA', count: 2, totalMinor: 200 },
      { ...bucket, businessUnit: 'NA', count: 2, totalMinor: 200 },
      { ...bucket, businessUnit: 'APAC', count: 1, totalMinor: 99 },
      // LATAM only in the ERP: a posting without an invoice.
      { ...bucket, businessUnit: 'LATAM', count: 1, totalMinor: 5 },
    ];
    expect(differencesByBusinessUnit(billing, erp)).toEqual([
      { businessUnit: 'APAC', buckets: 0, amountMinor: {} },
      { businessUnit: 'EMEA', buckets: 0, amountMinor: {} },
      { businessUnit: 'LATAM', buckets: 1, amountMinor: { USD: 5 } },
      { businessUnit: 'NA', buckets: 2, amountMinor: { USD: 50, EUR: 10 } },
    ]);
  });
});
