import { isDeepStrictEqual } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon, { type Options as AutocannonOptions } from 'autocannon';
import pg from 'pg';
import { operation } from '@c2c/schema/operations';
import { subgraphOfSystem } from '@c2c/schema/subgraphs';
import type { StoreSpec } from './child-runtime.ts';
import {
  BENCH_DIR,
  canPin,
  cpuSeconds,
  freePort,
  pinProcess,
  ROOT,
  spawnChild,
  tsxCommand,
  type BenchChild,
  hiveGatewayBin,
} from './processes.ts';
import {
  medianResult,
  readRatios,
  rotation,
  SYSTEMS,
  type LoadResult,
  type ReadRatios,
  type ReadResults,
  type SystemName,
} from './report.ts';
import { ourGatewayEnv, secretsEnv } from './security.ts';
import { principalAuthorizations } from './token.ts';

// The systems' schemas, from the ownership rules (rover.yaml names the subgraphs; nothing here does).
const CRM = subgraphOfSystem('CRM');

export interface ReadsOptions {
  quick: boolean;
  store: StoreSpec;
  log: (line: string) => void;
}

export interface ReadsReport {
  cold: ReadResults;
  warm: ReadResults;
  ratios: { cold: ReadRatios; warm: ReadRatios };
  /** Whether each system's sample answer was the same data as our gateway's (the floor's check). */
  sameAnswerAsOurs: Partial<Record<SystemName, boolean>>;
  connections: number;
  /**
   * Cold CustomerToCash at HIGH_CONNECTIONS connections, through our gateway and bare Apollo Gateway
   * only (the latency target: our p99 below Apollo's p50).
   */
  coldCustomerToCashAt50: Partial<Record<SystemName, LoadResult | null>>;
  secondsPerRun: number;
  /** Each round's order, ratios and cold results (the figures above are medians over them). */
  rounds: {
    round: number;
    order: SystemName[];
    ratios: { cold: ReadRatios; warm: ReadRatios };
    cold: ReadResults;
  }[];
  /** Distinct principals the load came from. */
  principals: number;
  notes: string[];
}

/** Distinct principals (bearer tokens) the read load comes from, in turn. */
export const PRINCIPALS = 100;

/** Connections of the latency run (issue 8: "p99 at 50 connections below bare Apollo Gateway's p50"). */
export const HIGH_CONNECTIONS = 50;

interface Workload {
  name: string;
  query: string;
  cold: Record<string, unknown>[];
  warm: Record<string, unknown>;
}

const BUSINESS_UNITS = ['NA-SMB', 'NA-ENTERPRISE', 'EMEA-SMB', 'EMEA-ENTERPRISE', 'APAC'];

/**
 * Cold: a different variable set each request, so no response could come from a cache: every
 * customer × invoicesFirst 20–100 (no seeded subscription has 20 invoices, so the work is the
 * same), and every business unit × first 50–100 for the list. Warm: the first of those, always.
 */
function workloads(customerIds: string[]): Workload[] {
  const c2c: Record<string, unknown>[] = [];
  for (let first = 20; first <= 100; first++) {
    for (const customerId of customerIds) c2c.push({ customerId, invoicesFirst: first });
  }
  const list: Record<string, unknown>[] = [];
  for (let first = 50; first <= 100; first++) {
    for (const businessUnit of BUSINESS_UNITS) list.push({ businessUnit, first });
  }
  return [
    { name: 'CustomerToCash', query: operation('portal.CustomerToCash'), cold: c2c, warm: c2c[0] as never },
    { name: 'Customers', query: operation('portal.Customers'), cold: list, warm: list[0] as never },
  ];
}

const body = (w: Workload, variables: Record<string, unknown>) =>
  JSON.stringify({ query: w.query, variables, operationName: w.name });

/** Sends one request and fails loudly on an HTTP error or GraphQL errors. */
async function sample(system: string, url: string, authorization: string, w: Workload): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: body(w, w.warm),
  });
  const text = await response.text();
  let parsed: { data?: unknown; errors?: unknown[] } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // reported below
  }
  if (response.status !== 200 || parsed.errors?.length || !parsed.data) {
    throw new Error(
      `${system} rejected ${w.name}: HTTP ${response.status} ${text.slice(0, 500)}` +
        (response.status === 401 || response.status === 403
          ? '\n(the bench token or the subgraph signature was not accepted)'
          : ''),
    );
  }
  return parsed.data;
}

/** The first two non-empty lines of an error (the second is usually the child's own message). */
const firstLines = (message: string) =>
  message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 2)
    .join(' ');

type Counters = { requests: Record<string, number>; sql: number };
const totalRequests = (c: Counters) => Object.values(c.requests).reduce((a, b) => a + b, 0);

/**
 * autocannon requests that send the given bodies in turn, one per request, each with the next of
 * the principals' `Authorization` values: request n carries body n mod (bodies) and principal
 * n mod (principals), so consecutive requests come from different callers with different variables.
 */
function inTurn(bodies: string[], authorizations: string[]): AutocannonOptions['requests'] {
  let next = 0;
  return [
    {
      method: 'POST',
      setupRequest: (request) => {
        const n = next++;
        return {
          ...request,
          headers: {
            ...request.headers,
            authorization: authorizations[n % authorizations.length] as string,
          },
          body: bodies[n % bodies.length] as string,
        };
      },
    },
  ];
}

async function measure(
  url: string,
  authorizations: string[],
  bodies: string[],
  seconds: number,
  connections: number,
  system: BenchChild,
  subgraphs: BenchChild | null,
): Promise<LoadResult> {
  const run = (duration: number) =>
    autocannon({
      url,
      connections,
      duration,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      requests: inTurn(bodies, authorizations),
    });
  await run(Math.max(1, Math.round(seconds / 4))); // warm-up: JIT, plan caches, keep-alive sockets
  return measuredLoad(() => run(seconds), system, subgraphs);
}

/** What measuredLoad reads from one autocannon run. */
type LoadRun = Awaited<ReturnType<typeof autocannon>>;

/**
 * One measured load run: the system's (and its subgraphs') CPU seconds and request/SQL counters
 * before and after, per request. The counters come from the subgraphs' process when there is one,
 * else from the system itself (the floor).
 */
export async function measuredLoad(
  load: () => Promise<LoadRun>,
  system: BenchChild,
  subgraphs: BenchChild | null,
): Promise<LoadResult> {
  const counters = () => (subgraphs ?? system).request<Counters>({ type: 'counters' });
  const snapshot = async () => ({
    cpu: cpuSeconds(system.pid),
    sub: subgraphs ? cpuSeconds(subgraphs.pid) : 0,
    c: await counters(),
  });
  const before = await snapshot();
  const result = await load();
  const after = await snapshot();
  const n = Math.max(1, result.requests.total);
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts + result.non2xx,
    cpuMsPerRequest: ((after.cpu - before.cpu) * 1000) / n,
    subgraphCpuMsPerRequest: subgraphs ? ((after.sub - before.sub) * 1000) / n : null,
    subgraphRequestsPerOperation: subgraphs ? (totalRequests(after.c) - totalRequests(before.c)) / n : null,
    sqlQueriesPerOperation: (after.c.sql - before.c.sql) / n,
  };
}

/** The supergraph with its routing URLs pointed at the running subgraphs (for Hive and bare Apollo). */
function localSupergraph(urls: Record<string, string>): string {
  const sdl = readFileSync(join(ROOT, 'schema', 'supergraph.graphql'), 'utf8').replace(
    /@join__graph\(name: "([^"]+)", url: "[^"]*"\)/g,
    (whole, name: string) => (urls[name] ? `@join__graph(name: "${name}", url: "${urls[name]}")` : whole),
  );
  mkdirSync(join(BENCH_DIR, 'run'), { recursive: true });
  const path = join(BENCH_DIR, 'run', 'supergraph.local.graphql');
  writeFileSync(path, sdl);
  return path;
}

async function launch(
  system: SystemName,
  urls: Record<string, string>,
  store: StoreSpec,
): Promise<BenchChild> {
  switch (system) {
    case 'ours':
      return spawnChild({
        name: 'our gateway',
        core: 0,
        command: tsxCommand('ours.child.ts'),
        env: await ourGatewayEnv(urls),
        ready: { ipc: true },
      });
    case 'apolloGateway':
      return spawnChild({
        name: 'bare Apollo Gateway',
        core: 0,
        command: tsxCommand('apollo.child.ts'),
        env: {
          BENCH_SUPERGRAPH: localSupergraph(urls),
          BENCH_SUBGRAPH_URLS: JSON.stringify(urls),
          ...secretsEnv(),
        },
        ready: { ipc: true },
      });
    case 'hiveGateway': {
      const port = await freePort();
      const bin = await hiveGatewayBin();
      return spawnChild({
        name: 'Hive Gateway',
        core: 0,
        // tsx only so that the configuration file can import @c2c/platform's TypeScript.
        command: [
          process.execPath,
          '--import',
          'tsx',
          bin,
          '--config-path',
          join(import.meta.dirname, 'hive.config.ts'),
          'supergraph',
          localSupergraph(urls),
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
        ],
        env: { NODE_ENV: 'production', BENCH_SUBGRAPH_URLS: JSON.stringify(urls), ...secretsEnv() },
        ready: { poll: `http://127.0.0.1:${port}/graphql`, body: '{"query":"{ __typename }"}' },
      });
    }
    case 'floor':
      return spawnChild({
        name: 'floor',
        core: 0,
        command: tsxCommand('floor.child.ts'),
        env: { BENCH_STORE: JSON.stringify(store) },
        ready: { ipc: true },
      });
  }
}

/** Where the subgraphs run, and with them the database (PGlite in their process, PostgreSQL's backends). */
const SUBGRAPHS_CORE = 1;

function startSubgraphs(store: StoreSpec): Promise<BenchChild> {
  return spawnChild({
    name: 'subgraphs',
    core: SUBGRAPHS_CORE,
    command: tsxCommand('subgraphs.child.ts'),
    env: { BENCH_STORE: JSON.stringify(store), BENCH_EVENTS: 'false', ...secretsEnv() },
    ready: { ipc: true },
  });
}

/**
 * On a PostgreSQL server on this machine, pins the backends serving the bench's connections
 * (application names c2c-bench and c2c-bench-floor) to the subgraphs' core, so the database has the
 * same core whichever system runs, as PGlite has inside the subgraphs' process. The server itself
 * and other clients' backends are left alone. Returns how many were pinned, or why none was.
 */
async function pinDatabaseBackends(store: StoreSpec): Promise<number | string> {
  if (store.kind !== 'postgres') return 0;
  if (!canPin()) return 'taskset is unavailable or the machine has one core';
  const host = new URL(store.url).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host))
    return `the server (${host}) is not on this machine`;
  const client = new pg.Client({ connectionString: store.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      `select pid from pg_stat_activity where datname = current_database() and application_name like 'c2c-bench%'`,
    );
    let pinned = 0;
    for (const { pid } of rows) if (pinProcess(pid, SUBGRAPHS_CORE)) pinned++;
    return rows.length && !pinned ? 'taskset could not pin the backends (not permitted?)' : pinned;
  } finally {
    await client.end();
  }
}

/** Rounds of the read comparison: every system in every round, the order rotated by one each round. */
function roundsOf(quick: boolean): number {
  return quick ? 2 : 3;
}

/**
 * The fair read harness (issue 19). Each round runs every system, in an order rotated by one place
 * per round; each system gets fresh subgraph processes of its own (nothing a previous system left —
 * nonces, JIT state, pools, prepared statements — carries over), the same warm-up through itself,
 * and the same load: requests from PRINCIPALS distinct principals in turn, each request with the
 * next variable set. Subgraph CPU per operation is measured per system. A figure is the median over
 * the rounds.
 */
export async function runReads(options: ReadsOptions): Promise<ReadsReport> {
  const { log } = options;
  const seconds = options.quick ? 4 : 10;
  const warmupSeconds = options.quick ? 3 : 10;
  const rounds = roundsOf(options.quick);
  const connections = 8;
  const authorizations = await principalAuthorizations(PRINCIPALS);
  const perRound: {
    round: number;
    order: SystemName[];
    cold: ReadResults;
    warm: ReadResults;
    at50: Partial<Record<SystemName, LoadResult | null>>;
  }[] = [];
  const samples = new Map<SystemName, Map<string, unknown>>();
  const notes: string[] = [];
  const pinnedBackends: string[] = [];

  // The customers, read once from a subgraphs process that is then stopped.
  let loads: Workload[];
  {
    const subgraphs = await startSubgraphs(options.store);
    try {
      const ids = await subgraphs.request<{ rows: { id: string }[] }>({
        type: 'sql',
        text: `select id from ${CRM}.customer order by name, id`,
      });
      loads = workloads(ids.rows.map((r) => r.id));
    } finally {
      await subgraphs.stop();
    }
  }

  for (let round = 0; round < rounds; round++) {
    const order = rotation(SYSTEMS, round);
    const results = {
      round,
      order,
      cold: {} as ReadResults,
      warm: {} as ReadResults,
      at50: {} as Partial<Record<SystemName, LoadResult | null>>,
    };
    perRound.push(results);
    for (const system of order) {
      log(`reads: round ${round + 1}/${rounds}, ${system}…`);
      // The floor has no subgraphs (with PGlite it opens their data directory, so none may run).
      const subgraphs = system === 'floor' ? null : await startSubgraphs(options.store);
      const urls = subgraphs ? (JSON.parse(subgraphs.url) as Record<string, string>) : {};
      let child: BenchChild | null = null;
      try {
        child = await launch(system, urls, options.store);
        // The same warm-up for every system, through itself: its JIT, its subgraphs' JIT, caches
        // and pools (prepared statements on PostgreSQL: one per statement text and connection).
        for (const w of loads) {
          await autocannon({
            url: child.url,
            connections,
            duration: warmupSeconds,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            requests: inTurn(
              w.cold.map((v) => body(w, v)),
              authorizations,
            ),
          });
        }
        const pinned = await pinDatabaseBackends(options.store);
        if (options.store.kind === 'postgres') pinnedBackends.push(`${system}: ${pinned}`);
        for (const w of loads) {
          const data = await sample(system, child.url, authorizations[0] as string, w);
          const own = samples.get(system) ?? new Map<string, unknown>();
          if (!own.has(w.name)) own.set(w.name, data);
          samples.set(system, own);
          const coldBodies = w.cold.map((v) => body(w, v));
          (results.cold[w.name] ??= {})[system] = await measure(
            child.url,
            authorizations,
            coldBodies,
            seconds,
            connections,
            child,
            subgraphs,
          );
          (results.warm[w.name] ??= {})[system] = await measure(
            child.url,
            authorizations,
            [body(w, w.warm)],
            seconds,
            connections,
            child,
            subgraphs,
          );
          if (w.name === 'CustomerToCash' && (system === 'ours' || system === 'apolloGateway')) {
            results.at50[system] = await measure(
              child.url,
              authorizations,
              coldBodies,
              seconds,
              HIGH_CONNECTIONS,
              child,
              subgraphs,
            );
          }
          // Nothing may have failed under load: the answer is still the same.
          await sample(system, child.url, authorizations[0] as string, w);
        }
      } catch (error) {
        if (system === 'ours') throw error;
        notes.push(`round ${round + 1}: ${system} failed: ${firstLines((error as Error).message)}`);
        for (const w of loads) {
          (results.cold[w.name] ??= {})[system] ??= null;
          (results.warm[w.name] ??= {})[system] ??= null;
        }
      } finally {
        await child?.stop();
        await subgraphs?.stop();
      }
    }
  }

  const combine = (pick: (r: (typeof perRound)[number]) => ReadResults): ReadResults => {
    const out: ReadResults = {};
    for (const w of loads)
      for (const system of SYSTEMS)
        (out[w.name] ??= {})[system] = medianResult(perRound.map((r) => pick(r)[w.name]?.[system]));
    return out;
  };
  const cold = combine((r) => r.cold);
  const warm = combine((r) => r.warm);
  const coldCustomerToCashAt50: Partial<Record<SystemName, LoadResult | null>> = {};
  for (const system of ['ours', 'apolloGateway'] as const)
    coldCustomerToCashAt50[system] = medianResult(perRound.map((r) => r.at50[system]));

  const reference = samples.get('ours');
  const sameAnswerAsOurs: Partial<Record<SystemName, boolean>> = {};
  for (const [system, answers] of samples) {
    if (system === 'ours' || !reference) continue;
    sameAnswerAsOurs[system] = [...answers].every(([name, data]) =>
      isDeepStrictEqual(data, reference.get(name)),
    );
    if (!sameAnswerAsOurs[system]) notes.push(`${system}'s sample answer differs from our gateway's`);
  }
  if (pinnedBackends.length)
    notes.push(
      `PostgreSQL backends pinned to core ${SUBGRAPHS_CORE} after warm-up: ${pinnedBackends.join(', ')}`,
    );
  return {
    cold,
    warm,
    ratios: { cold: readRatios(cold), warm: readRatios(warm) },
    sameAnswerAsOurs,
    connections,
    coldCustomerToCashAt50,
    secondsPerRun: seconds,
    rounds: perRound.map((r) => ({
      round: r.round + 1,
      order: r.order,
      ratios: { cold: readRatios(r.cold), warm: readRatios(r.warm) },
      cold: r.cold,
    })),
    principals: PRINCIPALS,
    notes,
  };
}
