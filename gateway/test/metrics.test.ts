import { describe, expect, it } from 'vitest';
import { CountingLruCache, fetchOutcome } from '../src/metrics.ts';
import { SubgraphUnavailable } from '../src/subgraph-unavailable.ts';

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
