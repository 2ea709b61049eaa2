import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { openDatabase, type Database } from '@c2c/platform/db';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { silentLogger } from '@c2c/platform/core';
import { ensureWorkQueueStream } from '@c2c/platform/events';
import { operation } from '@c2c/schema/operations';
import { ratedTotal, rateUsage, usagePricesOf } from '../src/domain/usage.rules.ts';
import { UsageService } from '../src/domain/usage.service.ts';
import { billingFromEnv } from '../src/ports/billing-config.ts';
import {
  startUsageBackbone,
  usageBackboneNames,
  usageBackboneSettingsFrom,
} from '../src/ingestion/usage-backbone.ts';

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** What this benchmark needs of the one-process stack; `npm run bench` starts it (apps/stack). */
export interface BenchStack {
  gatewayUrl: string;
  token(role: string): Promise<string>;
  stop(): Promise<void>;
}
export type StartBenchStack = (options: {
  database: Database;
  clock: { now(): Date };
  gateway: Record<string, unknown>;
}) => Promise<BenchStack>;

/*
 * Usage benchmark (docs/benchmarks.md, docs/usage.md), in one process on an in-memory PGlite (or
 * a new database on --database-url):
 *   ingestion  usage.RecordUsage through our gateway in batches of 1,000 events, side by side with
 *              the floor: the same rows inserted straight into the database with multi-row
 *              INSERT … ON CONFLICT DO NOTHING (no GraphQL, no validation, no gateway);
 *   rating     one period of N events for M subscriptions (10^6 and 10^4 in a full run): the
 *              period's events summed per subscription and metric in the database and rated with
 *              billing's own rating (exact tiers): seconds and peak RSS;
 *   billing    the billing run that then renews those M subscriptions, issuing each renewal
 *              invoice with its usage lines: seconds, renewals per second.
 * The load generator shares the process with the stack (the embedded shape): the gateway figure
 * includes the client's JSON work, which makes it conservative.
 */

export interface UsageBenchReport {
  store: string;
  ingestion: {
    batches: number;
    batchSize: number;
    concurrency: number;
    gatewayEventsPerSecond: number;
    floorEventsPerSecond: number;
    gatewayOverFloor: number;
    backbone:
      | {
          eventsPerSecond: number;
          overFloor: number;
          /** Messages recorded in one transaction at most, and transactions in flight. */
          batch: number;
          concurrency: number;
        }
      | { unavailable: string };
  };
  rating: {
    events: number;
    subscriptions: number;
    seconds: number;
    peakRssMiB: number;
    /** Sum of the rated amounts in minor units: a check that every period was rated. */
    ratedMinor: number;
  };
  billingRun: {
    subscriptions: number;
    seconds: number;
    renewalsPerSecond: number;
    peakRssMiB: number;
  };
}

const BATCH = 1000;
const START = '2026-01-01';
/** The clock of the benchmark: inside February, so that January's usage is on time. */
const NOW = new Date('2026-02-10T12:00:00Z');

async function openStore(
  databaseUrl: string | null,
): Promise<{ database: Database; describe: string; drop: () => Promise<void> }> {
  if (!databaseUrl) {
    return {
      database: await openDatabase({ kind: 'pglite', dataDir: null }),
      describe: 'PGlite (in memory)',
      drop: async () => {},
    };
  }
  const pg = (await import('pg')).default;
  const name = `c2c_bench_usage_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return {
    database: await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 8 }),
    describe: 'PostgreSQL',
    drop: async () => {
      const again = new pg.Client({ connectionString: databaseUrl });
      await again.connect();
      await again.query(`drop database if exists ${name}`);
      await again.end();
    },
  };
}

/** A mutation payload: the fields the bench reads. */
type Payload = { accepted?: number; renewedCount?: number; userErrors?: unknown[] };

async function gql(
  stack: BenchStack,
  token: string,
  name: string,
  variables: Record<string, unknown>,
): Promise<Record<string, Payload>> {
  const response = await fetch(stack.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: operation(name), variables }),
  });
  const body = (await response.json()) as { data?: Record<string, Payload>; errors?: unknown[] };
  if (body.errors || !body.data) throw new Error(`${name}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/**
 * Subscriptions straight into billing's tables (the bench measures usage, not onboarding): one
 * bill-to account, one metered plan, `count` monthly subscriptions from 2026-01-01.
 */
export async function seedSubscriptions(
  database: Database,
  count: number,
): Promise<{ planCode: string; ids: string[]; usagePrices: unknown }> {
  const customerId = randomUUID();
  const planCode = `BENCH-USAGE-${randomUUID().slice(0, 8).toUpperCase()}`;
  const db = database.db.withSchema('subscription');
  await db
    .insertInto('bill_to_account')
    .values({
      id: customerId,
      name: 'Bench',
      email: 'bench@example.com',
      status: 'ACTIVE',
      business_unit: 'EMEA',
      country: 'DE',
      region: null,
      version: 1,
    })
    .execute();
  const usagePrices = [
    {
      metric: 'api_calls',
      includedQuantity: '1000',
      tiers: [
        { upTo: '10000', unitPrice: '0.01' },
        { upTo: null, unitPrice: '0.0015' },
      ],
    },
  ];
  await db
    .insertInto('plan')
    .values({
      code: planCode,
      name: 'Bench usage',
      billing_period: 'MONTH',
      unit_price_minor: 995,
      currency: 'USD',
      min_seats: 1,
      max_seats: 100,
      usage_prices: JSON.stringify(usagePrices),
    })
    .execute();
  const ids = Array.from({ length: count }, () => randomUUID());
  for (let i = 0; i < ids.length; i += 1000) {
    await db
      .insertInto('subscription')
      .values(
        ids.slice(i, i + 1000).map((id) => ({
          id,
          customer_id: customerId,
          plan_code: planCode,
          billing_period: 'MONTH',
          unit_price_minor: 995,
          currency: 'USD',
          status: 'ACTIVE',
          seats: 1,
          start_date: START,
          current_period_start: START,
          current_period_end: '2026-02-01',
        })),
      )
      .execute();
  }
  return { planCode, ids, usagePrices };
}

/** One event of the stream, as the client sends it and as the floor inserts it. */
function eventAt(i: number, prefix: string, subscriptions: readonly string[]) {
  return {
    id: `${prefix}-${i}`,
    subscriptionId: subscriptions[i % subscriptions.length]!,
    metric: 'api_calls',
    quantity: `${(i % 97) + 1}.5`,
    occurredAt: new Date(Date.parse('2026-02-01T00:00:00Z') + (i % 777_600) * 1000).toISOString(),
  };
}

/** Runs `work` and reports its seconds and the process's peak RSS meanwhile (sampled every 50 ms). */
async function measured<T>(
  work: () => Promise<T>,
): Promise<{ value: T; seconds: number; peakRssMiB: number }> {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const started = process.hrtime.bigint();
  try {
    const value = await work();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, seconds, peakRssMiB: round(peak / 2 ** 20, 0) };
  } finally {
    clearInterval(sampler);
  }
}

/** Runs `batches` tasks with `concurrency` in flight; returns the seconds it took. */
async function timed(
  batches: number,
  concurrency: number,
  task: (batch: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches) await task(next++);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * Ingestion over the backbone: the same stream of events published beforehand as messages of 1,000
 * to the usage subject of a stream of its own (a fresh prefix), then billing's consumer started with
 * its default settings: seconds from its start until it has committed every message.
 */
async function backboneIngestion(options: {
  natsUrl: string;
  database: Database;
  clock: { now(): Date };
  batches: number;
  subscriptions: readonly string[];
  /** USAGE_INGEST_BATCH and USAGE_INGEST_CONCURRENCY, as billing reads them (defaults otherwise). */
  env: Readonly<Record<string, string | undefined>>;
}): Promise<{ seconds: number; batch: number; concurrency: number }> {
  const prefix = `C2CBENCH_${randomUUID().slice(0, 8).toUpperCase()}`;
  const settings = usageBackboneSettingsFrom({
    NATS_URL: options.natsUrl,
    NATS_STREAM_PREFIX: prefix,
    USAGE_INGEST_BATCH: options.env.USAGE_INGEST_BATCH,
    USAGE_INGEST_CONCURRENCY: options.env.USAGE_INGEST_CONCURRENCY,
  })!;
  const names = usageBackboneNames(prefix);
  const nc = await connect({ servers: options.natsUrl });
  const jsm = await jetstreamManager(nc);
  try {
    await ensureWorkQueueStream(jsm, { name: names.stream, subjects: [names.subject], description: 'bench' });
    const js = jetstream(nc);
    for (let b = 0; b < options.batches; b += 1) {
      const events = Array.from({ length: BATCH }, (_, i) =>
        eventAt(b * BATCH + i, 'bb', options.subscriptions),
      );
      await js.publish(
        names.subject,
        JSON.stringify({ version: 1, source: 'bench', batchId: `bb-${b}`, events }),
        { msgID: `bb-${b}` },
      );
    }
    const usage = new UsageService(
      {
        db: options.database.db,
        log: silentLogger(),
        clock: options.clock,
        afterCommit: () => {},
        env: {},
      },
      billingFromEnv({}),
    );
    // Timed from the consumer's first pull (connecting and creating the consumer are not ingestion).
    const queue = await startUsageBackbone({ db: options.database.db, usage, log: silentLogger(), settings });
    const started = process.hrtime.bigint();
    try {
      while (queue.settled.acked + queue.settled.terminated + queue.settled.retried < options.batches)
        await new Promise((resolve) => setTimeout(resolve, 5));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (usage.counters.accepted !== options.batches * BATCH)
        throw new Error(`backbone: ${JSON.stringify(usage.counters)}`);
      return { seconds, batch: settings.batch, concurrency: settings.concurrency };
    } finally {
      await queue.stop();
    }
  } finally {
    await jsm.streams.delete(names.stream).catch(() => undefined);
    await nc.close();
  }
}

export async function runUsageBench(options: {
  quick: boolean;
  natsUrl: string | null;
  env?: Readonly<Record<string, string | undefined>>;
  databaseUrl: string | null;
  log: (line: string) => void;
  startStack: StartBenchStack;
}): Promise<UsageBenchReport> {
  const { log } = options;
  const store = await openStore(options.databaseUrl);
  const clock = { now: () => NOW };
  const stack = await options.startStack({
    database: store.database,
    clock,
    // A billing run over 10^4 subscriptions takes minutes on PGlite: longer than the default 120 s.
    gateway: {
      rateLimit: { costPerMinute: 1_000_000_000, burst: 1_000_000_000 },
      subgraphMutationTimeoutMs: 3_600_000,
    },
  });
  try {
    const telemetry = await stack.token('telemetry');
    const finance = await stack.token('finance');

    // Ingestion: the same stream through the gateway and into the floor table.
    const ingestSubscriptions = (await seedSubscriptions(store.database, 100)).ids;
    const batches = options.quick ? 20 : 100;
    const concurrency = 4;
    log(`usage: ingesting ${batches} batches of ${BATCH} events through the gateway`);
    const gatewaySeconds = await timed(batches, concurrency, async (b) => {
      const events = Array.from({ length: BATCH }, (_, i) =>
        eventAt(b * BATCH + i, 'gw', ingestSubscriptions),
      );
      const data = await gql(stack, telemetry, 'usage.RecordUsage', { input: { events } });
      if (data.recordUsage?.accepted !== BATCH)
        throw new Error(`batch ${b}: ${JSON.stringify(data.recordUsage)}`);
    });
    await sql`create table subscription.usage_event_floor (like subscription.usage_event including all)`.execute(
      store.database.db,
    );
    log('usage: the floor (multi-row INSERT … ON CONFLICT DO NOTHING)');
    const floorSeconds = await timed(batches, concurrency, async (b) => {
      const rows = Array.from({ length: BATCH }, (_, i) => {
        const e = eventAt(b * BATCH + i, 'floor', ingestSubscriptions);
        const micro = BigInt(e.quantity.replace('.', '')) * 100_000n;
        return sql`(${e.id}, ${e.subscriptionId}::uuid, ${e.metric}, ${String(micro)}::bigint, ${e.occurredAt}::timestamptz, '2026-02-01'::date, '2026-03-01'::date, false)`;
      });
      await sql`insert into subscription.usage_event_floor
          (id, subscription_id, metric, quantity_micro, occurred_at, period_start, period_end, late)
        values ${sql.join(rows)} on conflict do nothing`.execute(store.database.db);
    });
    const events = batches * BATCH;
    const gatewayEventsPerSecond = round(events / gatewaySeconds, 0);
    const floorEventsPerSecond = round(events / floorSeconds, 0);
    let backbone: UsageBenchReport['ingestion']['backbone'] = {
      unavailable: 'needs NATS_URL (the backbone is the scaled-out shape’s)',
    };
    if (options.natsUrl) {
      log(`usage: ingesting ${batches} messages of ${BATCH} events over the backbone`);
      const run = await backboneIngestion({
        natsUrl: options.natsUrl,
        database: store.database,
        clock,
        batches,
        subscriptions: ingestSubscriptions,
        env: options.env ?? {},
      });
      const eventsPerSecond = round(events / run.seconds, 0);
      backbone = {
        eventsPerSecond,
        overFloor: round(eventsPerSecond / floorEventsPerSecond, 3),
        batch: run.batch,
        concurrency: run.concurrency,
      };
    }

    // Rating: N events of January for M subscriptions, then one billing run after the grace.
    const ratingEvents = options.quick ? 100_000 : 1_000_000;
    const ratingSubscriptions = options.quick ? 1_000 : 10_000;
    log(`usage: rating ${ratingEvents} events of ${ratingSubscriptions} subscriptions`);
    const { ids, usagePrices } = await seedSubscriptions(store.database, ratingSubscriptions);
    await sql`create temporary table bench_subscription (n int primary key, id uuid not null)`.execute(
      store.database.db,
    );
    for (let i = 0; i < ids.length; i += 1000) {
      const values = ids.slice(i, i + 1000).map((id, j) => sql`(${i + j}, ${id}::uuid)`);
      await sql`insert into bench_subscription values ${sql.join(values)}`.execute(store.database.db);
    }
    for (let from = 0; from < ratingEvents; from += 100_000) {
      const to = Math.min(ratingEvents, from + 100_000) - 1;
      await sql`insert into subscription.usage_event
          (id, subscription_id, metric, quantity_micro, occurred_at, period_start, period_end, late)
        select 'rate-' || g, s.id, 'api_calls', ((g % 97) + 1) * 1000000 + 500000,
               timestamptz '2026-01-01' + (g % 2678400) * interval '1 second', date '2026-01-01', date '2026-02-01', false
        from generate_series(${from}::int, ${to}::int) g
        join bench_subscription s on s.n = g % ${ratingSubscriptions}::int`.execute(store.database.db);
    }
    // The per-period totals ingestion keeps (recordUsage adds to them in its transaction).
    await sql`insert into subscription.usage_period
        (subscription_id, period_start, period_end, metric, quantity_micro, event_count, last_event_at)
      select subscription_id, period_start, period_end, metric, sum(quantity_micro), count(*), max(occurred_at)
      from subscription.usage_event where period_start = date '2026-01-01'
      group by subscription_id, period_start, period_end, metric`.execute(store.database.db);
    const rating = await measured(async () => {
      const prices = usagePricesOf(usagePrices, 'USD');
      const byMetric = new Map(prices.map((p) => [p.metric, p]));
      const { rows } = await sql<{ metric: string; quantity: string }>`
        select subscription_id, metric, sum(quantity_micro)::text as quantity
        from subscription.usage_event where period_start = date '2026-01-01'
        group by subscription_id, metric`.execute(store.database.db);
      let total = 0;
      for (const row of rows) total += ratedTotal(rateUsage(byMetric.get(row.metric)!, BigInt(row.quantity)));
      if (rows.length !== ratingSubscriptions) throw new Error(`rated ${rows.length} periods`);
      return total;
    });
    log(
      `usage: rated ${ratingEvents} events in ${rating.seconds.toFixed(2)} s, peak RSS ${rating.peakRssMiB} MiB; ` +
        `ingestion ${gatewayEventsPerSecond} events/s via the gateway, floor ${floorEventsPerSecond} events/s`,
    );
    log(`usage: the billing run renewing ${ratingSubscriptions + ingestSubscriptions.length} subscriptions`);
    const billing = await measured(async () => {
      const run = await gql(stack, finance, 'billing.RenewSubscriptions', {
        asOf: '2026-02-04',
        idempotencyKey: randomUUID(),
      });
      const payload = run.renewSubscriptions;
      if (!payload || payload.userErrors?.length) throw new Error(JSON.stringify(payload));
      return payload.renewedCount ?? 0;
    });
    return {
      store: store.describe,
      ingestion: {
        batches,
        batchSize: BATCH,
        concurrency,
        gatewayEventsPerSecond,
        floorEventsPerSecond,
        gatewayOverFloor: round(gatewayEventsPerSecond / floorEventsPerSecond, 3),
        backbone,
      },
      rating: {
        events: ratingEvents,
        subscriptions: ratingSubscriptions,
        seconds: round(rating.seconds, 2),
        peakRssMiB: rating.peakRssMiB,
        ratedMinor: rating.value,
      },
      billingRun: {
        subscriptions: billing.value,
        seconds: round(billing.seconds, 1),
        renewalsPerSecond: round(billing.value / billing.seconds, 1),
        peakRssMiB: billing.peakRssMiB,
      },
    };
  } finally {
    await stack.stop();
    await store.database.close();
    await store.drop();
  }
}
