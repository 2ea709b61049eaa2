import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@c2c/platform/core';
import { appliedSubject, NatsTransport, resetMessage, type CloudEvent } from '@c2c/platform/events';
import { waitFor } from '@c2c/platform/testing';
import { EntityCache, type SubgraphAnswer } from '../src/cache/entity-cache.ts';
import { listenForInvalidations } from '../src/cache/invalidation.ts';
import { cachePolicyFromSdl } from '../src/cache/policy.ts';
import { RedisCacheStore, type RedisCacheStoreOptions } from '../src/cache/redis-store.ts';

// The entity cache's Redis store on the real server (REDIS_URL), with the semantics of the
// in-process one: TTLs, tags, the stale-store guard across replicas, clear; and the invalidations
// heard on the real NATS (NATS_URL). Every key of a run starts with its own prefix.
const REDIS_URL = process.env.REDIS_URL;
const NATS_URL = process.env.NATS_URL;
const ROOT = join(import.meta.dirname, '..', '..');
const policy = cachePolicyFromSdl(readFileSync(join(ROOT, 'schema', 'supergraph.graphql'), 'utf8'));
const admin = { sub: 'a', role: 'admin', scopes: ['c2c:read', 'c2c:admin'] };
const INVOICE_FETCH = `query($representations:[_Any!]!){_entities(representations:$representations){...on Invoice{posting{status journalEntryId postedAt}amountDue{amount currency}}}}`;

const prefix = `c2c-test:${randomBytes(4).toString('hex')}:`;
let raw: Redis;
const stores: RedisCacheStore[] = [];
const open = async (extra: Partial<RedisCacheStoreOptions> = {}) => {
  const store = await RedisCacheStore.connect({
    url: REDIS_URL as string,
    prefix,
    statsIntervalS: 0,
    ...extra,
  });
  stores.push(store);
  return store;
};
const entry = (key: string, tags: string[], ttlMs = 60_000, value = `v-${key}`) => ({
  key,
  value,
  tags,
  ttlMs,
});

describe.skipIf(!REDIS_URL)(
  `the entity cache's Redis store${REDIS_URL ? '' : ' (skipped: set REDIS_URL, e.g. redis://127.0.0.1:6379)'}`,
  () => {
    beforeAll(async () => {
      raw = new Redis(REDIS_URL as string);
    });
    afterAll(async () => {
      for (const store of stores) await store.close();
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length) await raw.del(...keys);
      await raw.quit();
    });

    it('stores, reads and forgets entries after their max age', async () => {
      const store = await open();
      expect(await store.set(await store.begin(), [entry('a', ['o:T:1']), entry('b', ['o:T:2'], 150)])).toBe(
        0,
      );
      expect(await store.get(['a', 'b', 'missing'])).toEqual(['v-a', 'v-b', undefined]);
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await store.get(['a', 'b'])).toEqual(['v-a', undefined]);
    });

    it('invalidates exactly the entries carrying a tag, for every replica', async () => {
      const [a, b] = [await open(), await open()];
      await a.set(await a.begin(), [
        entry('i1', ['o:Invoice:1', 't:Invoice']),
        entry('i2', ['o:Invoice:2', 't:Invoice']),
        entry('c1', ['o:Customer:1']),
      ]);
      // Replica b reads what replica a stored, and its invalidation removes it for a.
      expect(await b.get(['i1', 'i2', 'c1'])).toEqual(['v-i1', 'v-i2', 'v-c1']);
      expect(await b.invalidate(['o:Invoice:1'])).toBe(1);
      expect(await a.get(['i1', 'i2', 'c1'])).toEqual([undefined, 'v-i2', 'v-c1']);
      expect(await b.invalidate(['t:Invoice', 'o:Nothing:0'])).toBe(1);
      expect(await a.get(['i2', 'c1'])).toEqual([undefined, 'v-c1']);
    });

    it('does not store what was read before an invalidation of its tags, even through another replica', async () => {
      const [a, b] = [await open(), await open()];
      const before = await a.begin();
      const unrelated = await a.begin();
      await b.invalidate(['o:Invoice:7']);
      const after = await a.begin();
      expect(await a.set(before, [entry('i7', ['o:Invoice:7']), entry('i8', ['o:Invoice:8'])])).toBe(1);
      expect(await a.get(['i7', 'i8'])).toEqual([undefined, 'v-i8']);
      expect(await a.set(unrelated, [entry('i9', ['o:Invoice:9'])])).toBe(0);
      expect(await a.set(after, [entry('i7', ['o:Invoice:7'])])).toBe(0);
      expect(await b.get(['i7', 'i9'])).toEqual(['v-i7', 'v-i9']);
    });

    it('clears every entry, and refuses what reads in flight bring back after the clear', async () => {
      const [a, b] = [await open(), await open()];
      await a.set(await a.begin(), [entry('x', ['o:X:1']), entry('y', ['o:Y:1'])]);
      const inFlight = await a.begin();
      await b.clear();
      expect(await a.get(['x', 'y'])).toEqual([undefined, undefined]);
      expect(await a.set(inFlight, [entry('z', ['o:Z:1'])])).toBe(1);
      expect(await a.set(await a.begin(), [entry('z', ['o:Z:1'])])).toBe(0);
      expect((await raw.keys(`${prefix}e:*`)).length).toBe(1);
    });

    it('bounds its keys: every one but the counter expires, and tag indexes drop expired members', async () => {
      const store = await open();
      await store.set(await store.begin(), [entry('short', ['o:S:1', 'sg:test'], 100)]);
      await store.invalidate(['o:S:2']);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await store.set(await store.begin(), [entry('long', ['sg:test'])]);
      expect(await raw.zrange(`${prefix}t:sg:test`, 0, -1)).toEqual([`${prefix}e:long`]);
      const keys = await raw.keys(`${prefix}*`);
      for (const key of keys) {
        const ttl = await raw.pttl(key);
        if (key === `${prefix}seq`) expect(ttl).toBe(-1);
        else expect(ttl, key).toBeGreaterThan(0);
      }
    });

    it('reads as misses and stores nothing when Redis cannot be reached', async () => {
      const failures: string[] = [];
      const store = await RedisCacheStore.connect({
        url: REDIS_URL as string,
        prefix,
        statsIntervalS: 0,
        events: { failed: (operation) => failures.push(operation) },
      });
      await store.set(await store.begin(), [entry('gone', ['o:G:1'])]);
      await store.close();
      expect(await store.get(['gone'])).toEqual([undefined]);
      const ticket = await store.begin();
      expect(await store.set(ticket, [entry('never', ['o:G:2'])])).toBe(0);
      await expect(store.invalidate(['o:G:1'])).rejects.toThrow();
      expect(failures).toEqual(['get', 'begin']);
      expect(await raw.get(`${prefix}e:never`)).toBeNull();
    });

    it('answers counts for the gauges', async () => {
      const store = await open({ statsIntervalS: 1 });
      await waitFor(async () => store.stats().entries > 0, 5000, 'a count');
      expect(store.stats().bytes).toBeGreaterThan(0);
    });

    describe('with the entity cache on two gateway replicas', () => {
      const invoice = (amount: string) => ({
        posting: { status: 'POSTED', journalEntryId: 'je', postedAt: '2026-03-01T00:00:00Z' },
        amountDue: { amount, currency: 'USD' },
      });
      const request = {
        query: INVOICE_FETCH,
        variables: { representations: [{ __typename: 'Invoice', id: 'inv-1' }] },
      };
      let amount = '10.00';
      let asked = 0;
      const fetch = async (): Promise<SubgraphAnswer> => {
        asked += 1;
        return { data: { _entities: [invoice(amount)] } };
      };
      const amountOf = (answer: SubgraphAnswer) =>
        (answer.data?._entities as { amountDue: { amount: string } }[])[0]?.amountDue.amount;

      it("shows a mutation made through replica B on replica A's next read", async () => {
        const p = `${prefix}rw:`;
        const a = new EntityCache({ policy, store: await open({ prefix: p }), log: silentLogger() });
        const b = new EntityCache({ policy, store: await open({ prefix: p }), log: silentLogger() });
        expect(amountOf(await a.resolve('finance', request, admin, fetch))).toBe('10.00');
        expect(amountOf(await b.resolve('finance', request, admin, fetch))).toBe('10.00');
        expect(asked).toBe(1);
        amount = '0.00';
        expect(await b.mutated('finance')).toBe(1);
        expect(amountOf(await a.resolve('finance', request, admin, fetch))).toBe('0.00');
        expect(asked).toBe(2);
      });

      it.skipIf(!NATS_URL)(
        'evicts what a subgraph announces on NATS, once for the replicas, and empties after a reset',
        async () => {
          const p = `${prefix}nats:`;
          const streamPrefix = `CT${randomBytes(3).toString('hex').toUpperCase()}`;
          const config = {
            enabled: true,
            maxBytes: 1e6,
            maxAgeSeconds: 60,
            redisUrl: REDIS_URL as string,
            redisPrefix: p,
            natsUrl: NATS_URL as string,
            streamPrefix,
          };
          const evictions: number[] = [];
          const replicas = await Promise.all(
            [1, 2].map(async () => {
              const cache = new EntityCache({
                policy,
                store: await open({ prefix: p }),
                log: silentLogger(),
              });
              const applied = cache.applied.bind(cache);
              cache.applied = async (events) => {
                const removed = await applied(events);
                evictions.push(removed);
                return removed;
              };
              return { cache, listener: await listenForInvalidations(cache, config, silentLogger()) };
            }),
          );
          const nc = await connect({ servers: NATS_URL as string });
          // The subgraph's side as its process runs it: the transport announces what it applied.
          const finance = await NatsTransport.connect({
            servers: NATS_URL as string,
            log: silentLogger(),
            streamPrefix,
            announceAs: 'finance',
          });
          try {
            const [a] = replicas;
            asked = 0;
            amount = '5.00';
            await a!.cache.resolve('finance', request, admin, fetch);
            await a!.cache.resolve('finance', request, admin, fetch);
            expect(asked).toBe(1);
            const event = {
              id: 'e1',
              type: 'payment.applied',
              data: { invoiceId: 'inv-1' },
            } as unknown as CloudEvent;
            finance.announceApplied([event]);
            await waitFor(async () => evictions.length > 0, 5000, 'the eviction');
            amount = '1.00';
            expect(amountOf(await a!.cache.resolve('finance', request, admin, fetch))).toBe('1.00');
            // One replica of the queue group evicted; the other did not hear it.
            await new Promise((resolve) => setTimeout(resolve, 200));
            expect(evictions).toEqual([1]);
            // A subgraph that reconnected may have lost announcements: every replica empties the store.
            expect((await raw.keys(`${p}e:*`)).length).toBe(1);
            nc.publish(appliedSubject(streamPrefix), resetMessage('finance'));
            await waitFor(async () => (await raw.keys(`${p}e:*`)).length === 0, 5000, 'the reset');
            expect(replicas.every((r) => r.cache.active)).toBe(true);
          } finally {
            await nc.close();
            await finance.close();
            for (const replica of replicas) await replica.listener.close();
          }
        },
      );
    });
  },
);
