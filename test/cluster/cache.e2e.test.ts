import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '@c2c/platform/auth';
import { todayUtc } from '@c2c/platform/core';
import { graphql, unique, useToken, waitFor } from '@c2c/platform/testing';
import { startCluster, type Cluster } from '@c2c/apps/cluster';
import { RedisCacheStore } from '@c2c/gateway';
import { operation } from '@c2c/schema/operations';
import { aCustomerWithAPlan } from '../support/scenarios.ts';

// The entity cache in the scaled-out shape (docs/cache.md): built JavaScript in child processes —
// 2 gateway replicas sharing one Redis store and 2 replicas of each subgraph — on a real PostgreSQL
// and the NATS at NATS_URL (a stream prefix of its own). A read cached through replica A shows a
// mutation made through replica B at once (read-your-writes through the shared store), and shows
// what a consumer changed (the CRM's contract value after `subscription.created`) once the consumer
// committed: its subgraph announces it on NATS and one replica evicts it for both.

const ADMIN_URL = process.env.DATABASE_URL;
const NATS_URL = process.env.NATS_URL;
const REDIS_URL = process.env.REDIS_URL;
const ready = Boolean(ADMIN_URL && NATS_URL && REDIS_URL);
const tag = randomBytes(4).toString('hex');
const REDIS_PREFIX = `c2c-cluster-test:${tag}:`;

let cluster: Cluster;
let databaseName: string;
let dataDir: string;
let crm: pg.Client;
const logs: string[] = [];
const via: { a: string; b: string } = { a: '', b: '' };

async function send<T = any>(url: string, name: string, variables: Record<string, unknown>): Promise<T> {
  const result = await graphql<T>(url, operation(name), variables);
  if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

/** A gateway replica's entity cache counter, summed over its labels matching `filter`. */
async function counter(url: string, name: string, filter: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(filter))
    .reduce((total, line) => total + Number(line.split(' ').pop()), 0);
}

const view = async (url: string, customerId: string) =>
  (await send(url, 'portal.CustomerToCash', { customerId })).customer as {
    name: string;
    contractValue: { amount: string } | null;
    subscriptions: { id: string }[];
  };

describe.skipIf(!ready)(
  `the entity cache across gateway replicas${ready ? '' : ' (skipped: needs DATABASE_URL, NATS_URL and REDIS_URL)'}`,
  () => {
    beforeAll(async () => {
      databaseName = `c2c_cache_${tag}`;
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`create database ${databaseName}`);
      await admin.end();
      const target = new URL(ADMIN_URL as string);
      target.pathname = `/${databaseName}`;
      dataDir = mkdtempSync(join(tmpdir(), 'c2c-cache-cluster-'));
      cluster = await startCluster({
        databaseUrl: target.toString(),
        natsUrl: NATS_URL as string,
        streamPrefix: `CACHE${tag.toUpperCase()}`,
        replicas: 2,
        dataDir,
        autoRestart: false,
        entityCache: { redisUrl: REDIS_URL as string, prefix: REDIS_PREFIX },
        output: (line) => {
          logs.push(line);
          if (logs.length > 4000) logs.shift();
        },
      });
      const token = await mintDevToken(dataDir, { role: 'admin', subject: 'cache-cluster-test' });
      via.a = `http://127.0.0.1:${cluster.replica('gateway', 1).port}/graphql`;
      via.b = `http://127.0.0.1:${cluster.replica('gateway', 2).port}/graphql`;
      useToken(via.a, token);
      useToken(via.b, token);
      crm = new pg.Client({ connectionString: cluster.databaseUrls.customer });
      await crm.connect();
    }, 240_000);

    afterEach((context) => {
      if (context.task.result?.state === 'fail') console.error(logs.slice(-200).join('\n'));
    });

    afterAll(async () => {
      await crm?.end().catch(() => undefined);
      await cluster?.stop();
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`drop database if exists ${databaseName} with (force)`);
      await admin.end();
      rmSync(dataDir, { recursive: true, force: true });
      // The entries and indexes go now; the rest expires on its own (docs/cache.md).
      const store = await RedisCacheStore.connect({ url: REDIS_URL as string, prefix: REDIS_PREFIX });
      await store.clear();
      await store.close();
    }, 60_000);

    it('shows a mutation made through replica B on the next read through replica A', async () => {
      const { customerId } = await aCustomerWithAPlan((name, variables) => send(via.b, name, variables), {
        name: 'Cache Co',
        planPrefix: 'CACHE',
      });
      const before = await view(via.a, customerId);
      const hits = await counter(via.a, 'c2c_entity_cache_lookups_total', 'result="hit"');
      expect(await view(via.a, customerId)).toEqual(before);
      // Answered from the shared store: replica A did not ask the subgraphs again.
      expect(await counter(via.a, 'c2c_entity_cache_lookups_total', 'result="hit"')).toBeGreaterThan(hits);
      expect(await view(via.b, customerId)).toEqual(before);

      const renamed = unique('Renamed Co');
      const updated = await send(via.b, 'admin.UpdateCustomer', {
        input: { id: customerId, name: renamed, idempotencyKey: unique('rename') },
      });
      expect(updated.updateCustomer.userErrors).toEqual([]);
      // At once, not eventually: B evicted the customer subgraph's entries before it answered.
      expect((await view(via.a, customerId)).name).toBe(renamed);
    });

    it("shows what a consumer changed once it committed: the CRM's contract value after a subscription", async () => {
      const { customerId, planCode } = await aCustomerWithAPlan(
        (name, variables) => send(via.b, name, variables),
        { name: 'Contract Co', planPrefix: 'CONTRACT' },
      );
      const before = await view(via.a, customerId);
      expect(before.contractValue?.amount ?? '0.00').toBe('0.00');
      const hits = await counter(via.a, 'c2c_entity_cache_lookups_total', 'result="hit"');
      await view(via.a, customerId);
      expect(await counter(via.a, 'c2c_entity_cache_lookups_total', 'result="hit"')).toBeGreaterThan(hits);
      const evictions = async () =>
        (await counter(via.a, 'c2c_entity_cache_evictions_total', 'reason="event"')) +
        (await counter(via.b, 'c2c_entity_cache_evictions_total', 'reason="event"'));
      const evictedBefore = await evictions();

      const key = unique('sub');
      const subscription = await waitFor(
        async () => {
          const data = await send(via.b, 'admin.CreateSubscription', {
            input: { customerId, planCode, seats: 4, startDate: todayUtc(), idempotencyKey: key },
          });
          const payload = data.createSubscription;
          if (payload.userErrors[0]?.code === 'UNKNOWN_CUSTOMER') return undefined;
          expect(payload.userErrors).toEqual([]);
          return payload.subscription as { id: string };
        },
        60_000,
        'billing to learn of the customer',
      );
      // "Consumed" from the CRM's own table (its consumer committed), not from the cache.
      const minor = await waitFor(
        async () => {
          const { rows } = await crm.query<{ minor: string | null }>(
            'select contract_value_minor::text as minor from customer.customer where id = $1',
            [customerId],
          );
          const value = rows[0]?.minor;
          return value && value !== '0' ? value : undefined;
        },
        60_000,
        'the CRM to apply subscription.created',
      );
      // The CRM's announcement travels over NATS to one replica, which evicts in Redis for both:
      // visible within moments of the commit (bounded here at 3 s; the max age is 300 s).
      const after = await waitFor(
        async () => {
          const current = await view(via.a, customerId);
          return current.contractValue && current.contractValue.amount !== '0.00' ? current : undefined;
        },
        3_000,
        'replica A to show the new contract value',
      );
      expect(Math.round(Number(after.contractValue?.amount) * 100)).toBe(Number(minor));
      expect(after.subscriptions.map((s) => s.id)).toContain(subscription.id);
      expect((await view(via.b, customerId)).contractValue).toEqual(after.contractValue);
      // Removed by announced events (on whichever replica of the queue group heard them).
      expect(await evictions()).toBeGreaterThan(evictedBefore);
    });
  },
);
