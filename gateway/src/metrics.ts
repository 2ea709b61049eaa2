import { randomUUID } from 'node:crypto';
import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import type { GatewayConfig as ApolloGatewayConfig } from '@apollo/gateway';
import { Counter, Gauge, Histogram } from 'prom-client';
import { type Principal } from '@c2c/platform/auth';
import { parseDecimal, type Logger } from '@c2c/platform/core';
import { createMetrics, LATENCY_BUCKETS, type Metrics } from '@c2c/platform/observability';
import type { GatewayContext } from './context.ts';
import { triageBuckets, type BillingControlTotal, type ControlTotal } from './ops/reconcile.ts';
import type { PersistedQueryManifest, SafelistMode } from './safelist.ts';
import { SubgraphUnavailable, type SubgraphFetcher } from './subgraph-fetcher.ts';

/*
 * The gateway's metrics (docs/observability.md): the platform's GraphQL and HTTP request metrics,
 * labelled by registered operation name; per subgraph, the latency and outcome of each fetch and the
 * circuit breaker's state; query plan cache lookups; and the reconciliation differences per business
 * unit, computed on a timer through the gateway's own supergraph.
 */

type PlanCache = NonNullable<NonNullable<ApolloGatewayConfig['queryPlannerConfig']>['cache']>;
type QueryPlan = NonNullable<Awaited<ReturnType<PlanCache['get']>>>;

/** Plans kept by the counting cache; Apollo's default keeps about 30 MiB, plans are a few KB to tens of KB. */
export const QUERY_PLAN_CACHE_ENTRIES = 1000;

/**
 * A least-recently-used cache by entry count that counts lookups. Handed to Apollo Gateway as its
 * query plan store (`queryPlannerConfig.cache`, a public option): the gateway looks a plan up once
 * per operation it executes (key: the document's hash and operation name) and stores a plan after
 * building it on a miss, so hits/(hits+misses) is the share of executions that needed no planning.
 */
export class CountingLruCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(
    private readonly maxEntries: number,
    private readonly onLookup: (hit: boolean) => void = () => {},
  ) {}

  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<V | undefined> {
    const value = this.entries.get(key);
    this.onLookup(value !== undefined);
    if (value !== undefined) {
      // Map keeps insertion order: re-inserting makes it the most recently used.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  async set(key: string, value: V): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  async delete(key: string): Promise<boolean> {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** What the HTTP outcome of a subgraph fetch or its failure is called in `c2c_subgraph_requests_total`. */
export function fetchOutcome(result: { status: number } | unknown): string {
  if (result instanceof SubgraphUnavailable)
    return result.reason === 'circuit-open' ? 'circuit_open' : result.reason;
  if (result && typeof result === 'object' && 'status' in result && typeof result.status === 'number') {
    if (result.status < 300) return 'ok';
    return `status_${Math.floor(result.status / 100)}xx`;
  }
  return 'error';
}

const BREAKER_STATES = ['closed', 'open', 'half-open', 'isolated'] as const;

export interface GatewayMetrics extends Metrics {
  /** The query plan store to give Apollo Gateway (`queryPlannerConfig.cache`). */
  queryPlanCache: PlanCache;
  /** Wraps a subgraph's fetch to record its latency and outcome (retries and breaker included). */
  instrumentFetch(subgraph: string, fetch: SubgraphFetcher['fetch']): SubgraphFetcher['fetch'];
}

export interface GatewayMetricsOptions {
  log: Logger;
  /** The registered operations: their names label the metrics; any other operation is `other`. */
  manifest: PersistedQueryManifest;
  /** Subgraph name → its client, whose circuit breaker state is reported at scrape time. */
  fetchers: Record<string, SubgraphFetcher>;
  token?: string;
}

export function createGatewayMetrics(options: GatewayMetricsOptions): GatewayMetrics {
  const registered = new Set(options.manifest.operations.map((op) => op.name));
  const metrics = createMetrics({
    service: 'gateway',
    log: options.log,
    // Clients choose operation names; only registered ones become labels, so the series stay bounded.
    operationLabel: (name) => (registered.has(name) ? name : null),
    ...(options.token ? { token: options.token } : {}),
  });
  const { registry } = metrics;

  const fetchDuration = new Histogram({
    name: 'c2c_subgraph_request_duration_seconds',
    help: 'Time of one subgraph fetch by the gateway, retries and waits included, by subgraph',
    labelNames: ['subgraph'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const fetches = new Counter({
    name: 'c2c_subgraph_requests_total',
    help: 'Subgraph fetches by the gateway, by subgraph and outcome (ok, status_4xx, status_5xx, timeout, network, circuit_open, error)',
    labelNames: ['subgraph', 'outcome'],
    registers: [registry],
  });
  new Gauge({
    name: 'c2c_subgraph_circuit_breaker_state',
    help: "1 for the circuit breaker's current state of each subgraph (closed, open, half-open, isolated), 0 for the others",
    labelNames: ['subgraph', 'state'],
    registers: [registry],
    collect() {
      for (const [subgraph, fetcher] of Object.entries(options.fetchers)) {
        const current = fetcher.state();
        for (const state of BREAKER_STATES) this.set({ subgraph, state }, state === current ? 1 : 0);
      }
    },
  });
  const lookups = new Counter({
    name: 'c2c_query_plan_cache_lookups_total',
    help: 'Query plan cache lookups, one per executed operation, by result (hit: no planning needed; miss: planned)',
    labelNames: ['result'],
    registers: [registry],
  });
  lookups.inc({ result: 'hit' }, 0);
  lookups.inc({ result: 'miss' }, 0);
  const cache = new CountingLruCache<QueryPlan>(QUERY_PLAN_CACHE_ENTRIES, (hit) =>
    lookups.inc({ result: hit ? 'hit' : 'miss' }),
  );
  new Gauge({
    name: 'c2c_query_plan_cache_entries',
    help: `Query plans in the gateway's cache (at most ${QUERY_PLAN_CACHE_ENTRIES}, least recently used evicted)`,
    registers: [registry],
    collect() {
      this.set(cache.size);
    },
  });

  return {
    ...metrics,
    queryPlanCache: cache,
    instrumentFetch: (subgraph, fetch) => async (url, init) => {
      const started = process.hrtime.bigint();
      try {
        const response = await fetch(url, init);
        fetches.inc({ subgraph, outcome: fetchOutcome(response) });
        return response;
      } catch (error) {
        fetches.inc({ subgraph, outcome: fetchOutcome(error) });
        throw error;
      } finally {
        fetchDuration.observe({ subgraph }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
  };
}

/** One business unit's differences between billing's and the ERP's control totals. */
export interface BusinessUnitDifferences {
  businessUnit: string;
  /** Buckets (currency × month × kind) whose totals differ beyond billing's documents in flight. */
  buckets: number;
  /** Per currency, the sum over those buckets of |billing − ERP| in minor units. */
  amountMinor: Record<string, number>;
}

/**
 * Control-total differences per business unit: the buckets `triageBuckets` would drill into
 * (documents in flight to the ERP explain the others). Every business unit of either side is listed,
 * with zero when it agrees.
 */
export function differencesByBusinessUnit(
  billing: BillingControlTotal[],
  erp: ControlTotal[],
): BusinessUnitDifferences[] {
  const units = new Map<string, BusinessUnitDifferences>();
  for (const row of [...billing, ...erp])
    if (!units.has(row.businessUnit))
      units.set(row.businessUnit, { businessUnit: row.businessUnit, buckets: 0, amountMinor: {} });
  for (const difference of triageBuckets(billing, erp).drillDown) {
    const [currency = '', businessUnit = ''] = difference.key.split('|');
    const unit = units.get(businessUnit)!;
    unit.buckets += 1;
    unit.amountMinor[currency] =
      (unit.amountMinor[currency] ?? 0) + Math.abs(difference.billing.totalMinor - difference.erp.totalMinor);
  }
  return [...units.values()].sort((a, b) => (a.businessUnit < b.businessUnit ? -1 : 1));
}

/** The gateway's own identity for its reconciliation runs: reads and finance feeds, nothing else. */
export const RECONCILER: Principal = {
  sub: 'c2c-gateway-reconciler',
  role: 'finance',
  scopes: ['c2c:read', 'c2c:finance'],
};

type Money = { amount: string; currency: string };
interface TotalsData {
  billing: (Omit<BillingControlTotal, 'totalMinor' | 'inFlightTotalMinor'> & {
    total: Money;
    inFlightTotal: Money;
  })[];
  erp: (Omit<ControlTotal, 'totalMinor'> & { total: Money })[];
}

const minor = (m: Money) => parseDecimal(m.amount, m.currency, null);

export interface ReconciliationMetricsOptions {
  metrics: Metrics;
  /** Seconds between runs; 0 turns the runs (and these metrics) off. */
  intervalSeconds: number;
  /** Documents younger than this and not yet posted are in flight, not differences (default 5). */
  graceMinutes?: number;
  manifest: PersistedQueryManifest;
  safelistMode: SafelistMode;
  log: Logger;
}

export interface ReconciliationMetrics {
  /** Stops the timer with the server. */
  plugin: ApolloServerPlugin<GatewayContext>;
  /** Starts the timer (after `apollo.start()`); the first run comes after one interval. */
  start(apollo: ApolloServer<GatewayContext>): void;
  /** One run now (tests, and the timer). */
  runOnce(apollo: ApolloServer<GatewayContext>): Promise<void>;
}

/**
 * Runs the registered `ReconciliationTotals` operation through the gateway itself — all its plugins:
 * authorization, cost, rate limit, safelist — as the RECONCILER principal every `intervalSeconds`,
 * and exposes the control-total differences per business unit. Control totals only: the document
 * drill-down (`npm run c2c -- reconcile`) stays with operators.
 */
export function reconciliationMetrics(options: ReconciliationMetricsOptions): ReconciliationMetrics {
  const { registry } = options.metrics;
  const log = options.log.child({ component: 'reconciliation-metrics' });
  const operation = options.manifest.operations.find((op) => op.name === 'ReconciliationTotals');
  const differences = new Gauge({
    name: 'c2c_reconciliation_differences',
    help: "Control-total buckets (currency × month × kind) of a business unit where billing and the ERP differ beyond documents in flight, at the gateway's last reconciliation run",
    labelNames: ['business_unit'],
    registers: [registry],
  });
  const amounts = new Gauge({
    name: 'c2c_reconciliation_difference_minor_units',
    help: 'Sum of |billing − ERP| over the differing buckets of a business unit, in minor units of the currency',
    labelNames: ['business_unit', 'currency'],
    registers: [registry],
  });
  const runs = new Counter({
    name: 'c2c_reconciliation_runs_total',
    help: "The gateway's reconciliation runs, by outcome (ok, failed)",
    labelNames: ['outcome'],
    registers: [registry],
  });
  runs.inc({ outcome: 'ok' }, 0);
  runs.inc({ outcome: 'failed' }, 0);
  const lastSuccess = new Gauge({
    name: 'c2c_reconciliation_last_success_timestamp_seconds',
    help: 'Unix time of the last reconciliation run that succeeded (absent before the first)',
    registers: [registry],
  });

  const runOnce = async (apollo: ApolloServer<GatewayContext>) => {
    try {
      if (!operation) throw new Error('ReconciliationTotals is not a registered operation');
      const response = await apollo.executeOperation(
        {
          query: operation.body,
          variables: { graceMinutes: options.graceMinutes ?? 5, stuckFirst: 1 },
          ...(options.safelistMode === 'id-only'
            ? { extensions: { persistedQuery: { version: 1, sha256Hash: operation.id } } }
            : {}),
        },
        { contextValue: serviceContext(log) },
      );
      if (response.body.kind !== 'single') throw new Error('unexpected incremental response');
      const { data, errors } = response.body.singleResult;
      if (errors?.length || !data) throw new Error(errors?.[0]?.message ?? 'no data');
      const totals = data as unknown as TotalsData;
      const billing = totals.billing.map(({ total, inFlightTotal, ...row }) => ({
        ...row,
        totalMinor: minor(total),
        inFlightTotalMinor: minor(inFlightTotal),
      }));
      const erp = totals.erp.map(({ total, ...row }) => ({ ...row, totalMinor: minor(total) }));
      differences.reset();
      amounts.reset();
      for (const unit of differencesByBusinessUnit(billing, erp)) {
        differences.set({ business_unit: unit.businessUnit }, unit.buckets);
        for (const [currency, amount] of Object.entries(unit.amountMinor))
          amounts.set({ business_unit: unit.businessUnit, currency }, amount);
      }
      lastSuccess.setToCurrentTime();
      runs.inc({ outcome: 'ok' });
    } catch (error) {
      runs.inc({ outcome: 'failed' });
      log.warn({ err: error }, 'reconciliation run failed');
    }
  };

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  const stop = async () => {
    if (timer) clearInterval(timer);
    timer = null;
    await running;
  };
  return {
    runOnce,
    start(apollo) {
      if (options.intervalSeconds <= 0 || timer) return;
      timer = setInterval(() => {
        running ??= runOnce(apollo).finally(() => (running = null));
      }, options.intervalSeconds * 1000);
      timer.unref();
    },
    plugin: {
      async serverWillStart() {
        return { serverWillStop: stop };
      },
    },
  };
}

/** A request context for the gateway's own operations, as the RECONCILER. */
export function serviceContext(log: Logger): GatewayContext {
  const requestId = randomUUID();
  return {
    principal: RECONCILER,
    caller: RECONCILER.sub,
    correlationId: `reconcile-${requestId}`,
    requestId,
    log: log.child({ requestId, principal: RECONCILER.sub }),
  };
}
