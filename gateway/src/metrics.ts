import type { GatewayConfig as ApolloGatewayConfig } from '@apollo/gateway';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Logger } from '@c2c/platform/core';
import { createMetrics, LATENCY_BUCKETS, type Metrics } from '@c2c/platform/observability/metrics';
import type { PersistedQueryManifest } from './safelist.ts';
import type { SubgraphFetcher } from './subgraph-fetcher.ts';
import { SubgraphUnavailable } from './subgraph-unavailable.ts';

/*
 * The gateway's metrics (docs/observability.md): the platform's GraphQL and HTTP request metrics,
 * labelled by registered operation name; per subgraph, the latency and outcome of each fetch and the
 * circuit breaker's state; query plan cache and verified-token cache lookups. The reconciliation gauges are ops' own
 * (@c2c/ops), registered on this registry by the composition root.
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
  instrumentFetch(subgraph: string, send: SubgraphFetcher['send']): SubgraphFetcher['send'];
  /** Counts one lookup in the verified-token cache (hit: the token's signature was not checked again). */
  tokenCacheLookup(hit: boolean): void;
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

  const tokenLookups = new Counter({
    name: 'c2c_token_cache_lookups_total',
    help: 'Verified-token cache lookups, one per request with a bearer token, by result (hit: signature not verified again; miss: verified)',
    labelNames: ['result'],
    registers: [registry],
  });
  tokenLookups.inc({ result: 'hit' }, 0);
  tokenLookups.inc({ result: 'miss' }, 0);

  return {
    ...metrics,
    queryPlanCache: cache,
    tokenCacheLookup: (hit) => tokenLookups.inc({ result: hit ? 'hit' : 'miss' }),
    instrumentFetch: (subgraph, send) => async (request) => {
      const started = process.hrtime.bigint();
      try {
        const response = await send(request);
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
