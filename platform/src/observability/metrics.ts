import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/*
 * Prometheus metrics, one registry per process role (a gateway, a subgraph), never prom-client's
 * global default: the one-process stack and the tests run several of them side by side. Every
 * metric is named `c2c_…` with its unit in the name; labels are bounded (operation names are capped,
 * no ids). docs/observability.md lists every metric and what it means.
 */

/** Latency buckets (seconds): a cached read is milliseconds, a billing run may take a minute. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** How long a database-backed gauge keeps a reading, so frequent scrapes cost one query each TTL. */
export const DEFAULT_SCRAPE_CACHE_MS = 5000;
/** How long a scrape waits for one database-backed reading before giving up on it. */
export const DEFAULT_COLLECT_TIMEOUT_MS = 2000;

/** Distinct operation names one process labels before it reports further ones as `other`. */
const MAX_OPERATION_LABELS = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** One value of a gauge read at scrape time. */
export interface Reading {
  labels?: Record<string, string>;
  value: number;
}

export interface ScrapedGaugeSpec {
  name: string;
  help: string;
  labelNames?: string[];
  /** Reads the current values (cached for the scrape cache TTL, bounded by the collect timeout). */
  read: () => Promise<Reading[]>;
}

/** What a subgraph may add to its process's metrics: gauges read from its own data at scrape time. */
export interface MetricsSink {
  /**
   * A gauge whose values are read at scrape time; a failed or slow read leaves it without series for
   * that scrape (NaN when it has no labels).
   */
  scrapedGauge(spec: ScrapedGaugeSpec): void;
  /**
   * Wraps a read so that gauges sharing it cost one query per cache TTL (several gauges from one
   * SQL statement); concurrent callers share the pending read.
   */
  cached<T>(read: () => Promise<T>): () => Promise<T>;
}

export interface MetricsOptions {
  /** The process role, added as the `service` label to every series (`gateway`, `customer` …). */
  service: string;
  log: Logger;
  /** Node.js process metrics (`process_*`, `nodejs_*`, their standard names). Default true. */
  processMetrics?: boolean;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  token?: string;
  scrapeCacheMs?: number;
  collectTimeoutMs?: number;
  /**
   * Maps a client's operation name to its label; return null for `other`. Default: the name when
   * well-formed, for the first 200 distinct names.
   */
  operationLabel?: (operationName: string) => string | null;
}

/** A process's metrics: its registry, the GraphQL request metrics and the /metrics route. */
export interface Metrics extends MetricsSink {
  readonly registry: Registry;
  readonly service: string;
  /** Apollo plugin: requests, errors by code and latency per operation name, type and outcome. */
  plugin<C extends BaseContext>(): ApolloServerPlugin<C>;
  /**
   * For `createGraphQLHttpServer`'s `routes`: serves GET /metrics and counts every HTTP request it
   * sees (its route, method and status). Returns true when it answered the request.
   */
  routes(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean>;
  /** The exposition text, as GET /metrics answers it. */
  text(): Promise<string>;
  /** The label an operation name gets (bounded). */
  operationLabel(operationName: string | null | undefined): string;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A read kept for `ttlMs`; callers during a pending read share it; a failure is not kept. */
export function cachedRead<T>(read: () => Promise<T>, ttlMs: number, now: () => number = Date.now) {
  let value: { at: number; result: T } | null = null;
  let pending: Promise<T> | null = null;
  return (): Promise<T> => {
    if (value && now() - value.at < ttlMs) return Promise.resolve(value.result);
    pending ??= read()
      .then((result) => {
        value = { at: now(), result };
        return result;
      })
      .finally(() => (pending = null));
    return pending;
  };
}

/** Apollo's `Foo__subgraph__2`: the gateway names each subgraph fetch after the client's operation. */
const SUBGRAPH_FETCH_SUFFIX = /__[A-Za-z0-9_]+__\d+$/;

/** A bounded label for operation names: the first `max` well-formed names, then `other`. */
export function boundedOperationLabels(max = MAX_OPERATION_LABELS): (name: string) => string | null {
  const seen = new Set<string>();
  return (name) => {
    const base = name.replace(SUBGRAPH_FETCH_SUFFIX, '');
    if (!OPERATION_NAME.test(base)) return null;
    if (seen.has(base)) return base;
    if (seen.size >= max) return null;
    seen.add(base);
    return base;
  };
}

/** Bearer token comparison in constant time. */
function authorized(request: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(request.headers.authorization ?? '', 'utf8');
  const expected = Buffer.from(`Bearer ${token}`, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Creates a process's registry with its GraphQL request metrics and the /metrics route. */
export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const ttl = options.scrapeCacheMs ?? DEFAULT_SCRAPE_CACHE_MS;
  const collectTimeout = options.collectTimeoutMs ?? DEFAULT_COLLECT_TIMEOUT_MS;
  const log = options.log.child({ component: 'metrics' });
  const labelOf = options.operationLabel ?? boundedOperationLabels();

  const requests = new Counter({
    name: 'c2c_graphql_requests_total',
    help: 'GraphQL operations executed, by operation name, type and outcome (ok, or error when the response has errors)',
    labelNames: ['operation', 'type', 'outcome'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'c2c_graphql_errors_total',
    help: 'GraphQL errors in responses, by operation name and error code',
    labelNames: ['operation', 'code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'c2c_graphql_request_duration_seconds',
    help: 'Time from the start of a GraphQL request to its response, by operation name and type',
    labelNames: ['operation', 'type'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'c2c_http_requests_total',
    help: 'HTTP requests answered (also those refused before GraphQL: 401, 413, 429 …), by route, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'c2c_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route',
    labelNames: ['route'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const collectFailures = new Counter({
    name: 'c2c_metrics_collect_failures_total',
    help: 'Scrape-time readings that failed or timed out (the gauge is empty for that scrape), by metric',
    labelNames: ['metric'],
    registers: [registry],
  });

  const operationLabel = (name: string | null | undefined) =>
    name ? (labelOf(name) ?? 'other') : 'anonymous';

  const sink: MetricsSink = {
    cached: (read) => cachedRead(read, ttl),
    scrapedGauge(spec) {
      const read = cachedRead(spec.read, ttl);
      new Gauge({
        name: spec.name,
        help: spec.help,
        labelNames: spec.labelNames ?? [],
        registers: [registry],
        async collect() {
          this.reset();
          try {
            const readings = await withTimeout(read(), collectTimeout, spec.name);
            for (const reading of readings) this.set(reading.labels ?? {}, reading.value);
          } catch (error) {
            // A gauge without labels always has a sample: NaN ("unknown"), never a made-up 0.
            if (!spec.labelNames?.length) this.set(NaN);
            collectFailures.inc({ metric: spec.name });
            log.warn({ err: error, metric: spec.name }, 'metric reading failed');
          }
        },
      });
    },
  };

  return {
    registry,
    service: options.service,
    ...sink,
    operationLabel,
    text: () => registry.metrics(),
    plugin<C extends BaseContext>(): ApolloServerPlugin<C> {
      return {
        async requestDidStart() {
          const started = process.hrtime.bigint();
          const codes = new Set<string>();
          let failed = false;
          return {
            async didEncounterErrors({ errors: found }) {
              failed = true;
              for (const error of found) {
                const code = error.extensions?.code;
                codes.add(typeof code === 'string' && ERROR_CODE.test(code) ? code : 'INTERNAL_SERVER_ERROR');
              }
            },
            async willSendResponse({ response, operation, operationName, request }) {
              if (response.body.kind === 'single' && response.body.singleResult.errors?.length) failed = true;
              const labels = {
                operation: operation
                  ? operationLabel(operationName ?? request.operationName)
                  : request.query || request.extensions?.persistedQuery
                    ? 'invalid'
                    : 'anonymous',
                type: operation?.operation ?? 'unknown',
              };
              const seconds = Number(process.hrtime.bigint() - started) / 1e9;
              duration.observe(labels, seconds);
              requests.inc({ ...labels, outcome: failed ? 'error' : 'ok' });
              for (const code of codes) errors.inc({ operation: labels.operation, code });
            },
          };
        },
      };
    },
    async routes(request, response, url) {
      const route = ['/graphql', '/metrics'].includes(url.pathname) ? url.pathname : 'other';
      const started = process.hrtime.bigint();
      response.once('finish', () => {
        const method = ['GET', 'POST', 'OPTIONS'].includes(request.method ?? '') ? request.method! : 'other';
        httpRequests.inc({ route, method, status: String(response.statusCode) });
        httpDuration.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
      });
      if (url.pathname !== '/metrics') return false;
      if (request.method !== 'GET') {
        response.statusCode = 405;
        response.setHeader('allow', 'GET');
        response.end();
        return true;
      }
      if (!authorized(request, options.token)) {
        response.statusCode = 401;
        response.setHeader('www-authenticate', 'Bearer');
        response.end();
        return true;
      }
      const body = await registry.metrics();
      response.statusCode = 200;
      response.setHeader('content-type', registry.contentType);
      response.setHeader('cache-control', 'no-store');
      response.end(body);
      return true;
    },
  };
}
