import { isDeepStrictEqual } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon, { type Options as AutocannonOptions } from 'autocannon';
import { operation } from '@c2c/schema/operations';
import { subgraphOfSystem } from '@c2c/schema/subgraphs';
import type { StoreSpec } from './child-runtime.ts';
import {
  BENCH_DIR,
  cpuSeconds,
  freePort,
  ROOT,
  spawnChild,
  tsxCommand,
  type BenchChild,
  hiveGatewayBin,
} from './processes.ts';
import {
  readRatios,
  SYSTEMS,
  type LoadResult,
  type ReadRatios,
  type ReadResults,
  type SystemName,
} from './report.ts';
import { ourGatewayEnv, secretsEnv } from './security.ts';
import { authHeaders } from './token.ts';

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
  notes: string[];
}

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
async function sample(
  system: string,
  url: string,
  headers: Record<string, string>,
  w: Workload,
): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
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

/** autocannon requests that send the given bodies in turn, one per request. */
function inTurn(bodies: string[]): AutocannonOptions['requests'] {
  let next = 0;
  return [
    {
      method: 'POST',
      setupRequest: (request) => ({
        ...request,
        body: bodies[next++ % bodies.length] as string,
      }),
    },
  ];
}

async function measure(
  url: string,
  headers: Record<string, string>,
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
      headers: { 'content-type': 'application/json', ...headers },
      requests: inTurn(bodies),
    });
  await run(Math.max(1, Math.round(seconds / 4))); // warm-up: JIT, plan caches, keep-alive sockets
  const counters = () => (subgraphs ?? system).request<Counters>({ type: 'counters' });
  const before = {
    cpu: cpuSeconds(system.pid),
    sub: subgraphs ? cpuSeconds(subgraphs.pid) : 0,
    c: await counters(),
  };
  const result = await run(seconds);
  const after = {
    cpu: cpuSeconds(system.pid),
    sub: subgraphs ? cpuSeconds(subgraphs.pid) : 0,
    c: await counters(),
  };
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

function startSubgraphs(store: StoreSpec): Promise<BenchChild> {
  return spawnChild({
    name: 'subgraphs',
    core: 1,
    command: tsxCommand('subgraphs.child.ts'),
    env: { BENCH_STORE: JSON.stringify(store), BENCH_EVENTS: 'false', ...secretsEnv() },
    ready: { ipc: true },
  });
}

/** Reads through each gateway over the shared subgraphs, then the floor on the same database. */
export async function runReads(options: ReadsOptions): Promise<ReadsReport> {
  const { log } = options;
  const seconds = options.quick ? 5 : 20;
  const connections = 8;
  const headers = await authHeaders('portal');
  const cold: ReadResults = {};
  const warm: ReadResults = {};
  const coldCustomerToCashAt50: Partial<Record<SystemName, LoadResult | null>> = {};
  const reference = new Map<string, unknown>();
  const sameAnswerAsOurs: Partial<Record<SystemName, boolean>> = {};
  const notes: string[] = [];

  let subgraphs: BenchChild | null = await startSubgraphs(options.store);
  const urls = JSON.parse(subgraphs.url) as Record<string, string>;
  const ids = await subgraphs.request<{ rows: { id: string }[] }>({
    type: 'sql',
    text: `select id from ${CRM}.customer order by name, id`,
  });
  const loads = workloads(ids.rows.map((r) => r.id));
  try {
    for (const system of SYSTEMS) {
      if (system === 'floor' && options.store.kind === 'pglite' && subgraphs) {
        // PGlite is one process's: the floor opens the same data directory after the subgraphs let go.
        await subgraphs.stop();
        subgraphs = null;
      }
      log(`reads: ${system}…`);
      let child: BenchChild;
      try {
        child = await launch(system, urls, options.store);
      } catch (error) {
        if (system === 'ours') throw error;
        notes.push(`${system} could not start: ${firstLines((error as Error).message)}`);
        for (const w of loads) {
          (cold[w.name] ??= {})[system] = null;
          (warm[w.name] ??= {})[system] = null;
        }
        continue;
      }
      try {
        if (system === SYSTEMS[0]) {
          // The subgraphs' JIT and caches (prepared statements on PostgreSQL: one per statement text
          // and connection, and batches of different sizes are different texts) warm up once, with
          // the cold variable sets, before any system is measured: otherwise the first system
          // measured pays for it.
          for (const w of loads) {
            await autocannon({
              url: child.url,
              connections,
              duration: seconds * 2,
              method: 'POST',
              headers: { 'content-type': 'application/json', ...headers },
              requests: inTurn(w.cold.map((v) => body(w, v))),
            });
          }
        }
        for (const w of loads) {
          const data = await sample(system, child.url, headers, w);
          if (system === 'ours') reference.set(w.name, data);
          else
            sameAnswerAsOurs[system] =
              (sameAnswerAsOurs[system] ?? true) && isDeepStrictEqual(data, reference.get(w.name));
          const behind = system === 'floor' ? null : subgraphs;
          const coldBodies = w.cold.map((v) => body(w, v));
          (cold[w.name] ??= {})[system] = await measure(
            child.url,
            headers,
            coldBodies,
            seconds,
            connections,
            child,
            behind,
          );
          (warm[w.name] ??= {})[system] = await measure(
            child.url,
            headers,
            [body(w, w.warm)],
            seconds,
            connections,
            child,
            behind,
          );
          if (w.name === 'CustomerToCash' && (system === 'ours' || system === 'apolloGateway')) {
            coldCustomerToCashAt50[system] = await measure(
              child.url,
              headers,
              coldBodies,
              seconds,
              HIGH_CONNECTIONS,
              child,
              behind,
            );
          }
          // Nothing may have failed under load: the answer is still the same.
          await sample(system, child.url, headers, w);
        }
      } catch (error) {
        if (system === 'ours') throw error;
        notes.push(`${system} failed: ${firstLines((error as Error).message)}`);
        for (const w of loads) {
          (cold[w.name] ??= {})[system] ??= null;
          (warm[w.name] ??= {})[system] ??= null;
        }
      } finally {
        await child.stop();
      }
    }
  } finally {
    await subgraphs?.stop();
  }
  for (const [system, same] of Object.entries(sameAnswerAsOurs)) {
    if (!same) notes.push(`${system}'s sample answer differs from our gateway's`);
  }
  return {
    cold,
    warm,
    ratios: { cold: readRatios(cold), warm: readRatios(warm) },
    sameAnswerAsOurs,
    connections,
    coldCustomerToCashAt50,
    secondsPerRun: seconds,
    notes,
  };
}
