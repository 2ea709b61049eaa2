import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { mintDevToken } from '@c2c/platform/auth';
import { operation } from '@c2c/schema/operations';
import { subgraphOfSystem } from '@c2c/schema/subgraphs';
import type { StoreSpec } from './child-runtime.ts';
import { spawnChild, tsxCommand, type BenchChild } from './processes.ts';
import { measuredLoad } from './reads.ts';
import { round, type LoadResult } from './report.ts';
import { ourGatewayEnv, secretsEnv } from './security.ts';
import { ISSUER_DIR } from './token.ts';

// "Warm reads with the cache, 100 principals" (issue 19): our gateway with its entity cache on —
// in process, and in Redis (the scaled-out shape's store) — against the no-gateway floor, which
// executes every request in full. The load: 100 distinct portal users (a token each, verified by
// the gateway on every request), each request the next of CustomerToCash for every customer of the
// book and Customers for every business unit, so principals and variables vary request by request.
// Warm: every body was read once before the measured run. Pinning as in the read section: the
// system under test on core 0, the subgraphs on core 1; Redis and PostgreSQL are not pinned.

const CRM = subgraphOfSystem('CRM');
const BUSINESS_UNITS = ['NA-SMB', 'NA-ENTERPRISE', 'EMEA-SMB', 'EMEA-ENTERPRISE', 'APAC'];
export const PRINCIPALS = 100;

export type CachedSystem = 'oursCachedMemory' | 'oursCachedRedis' | 'floor';

export interface CachedReadsReport {
  principals: number;
  bodies: number;
  connections: number;
  secondsPerRun: number;
  results: Record<CachedSystem, LoadResult | null>;
  /** Cached req/s ÷ the floor's. */
  ratios: { memoryOverFloor: number | null; redisOverFloor: number | null };
  /** Entity cache lookups during the measured run that were hits, per cached system. */
  hitRates: Partial<Record<CachedSystem, number | null>>;
  notes: string[];
}

async function lookups(url: string): Promise<{ hit: number; miss: number } | null> {
  try {
    const text = await (await fetch(new URL('/metrics', url))).text();
    const sum = (result: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('c2c_entity_cache_lookups_total{') && l.includes(`result="${result}"`))
        .reduce((t, l) => t + Number(l.split(' ').pop()), 0);
    return { hit: sum('hit'), miss: sum('miss') };
  } catch {
    return null;
  }
}

export async function runCachedReads(options: {
  quick: boolean;
  store: StoreSpec;
  redisUrl: string | null;
  log: (line: string) => void;
}): Promise<CachedReadsReport> {
  const { log } = options;
  const seconds = options.quick ? 5 : 20;
  const connections = 8;
  const notes: string[] = [];
  const tokens: string[] = [];
  for (let i = 1; i <= PRINCIPALS; i++)
    tokens.push(
      `Bearer ${await mintDevToken(ISSUER_DIR, { role: 'portal', subject: `bench-portal-${i}`, ttlSeconds: 6 * 3600 })}`,
    );
  let subgraphs: BenchChild | null = await spawnChild({
    name: 'subgraphs',
    core: 1,
    command: tsxCommand('subgraphs.child.ts'),
    env: { BENCH_STORE: JSON.stringify(options.store), BENCH_EVENTS: 'false', ...secretsEnv() },
    ready: { ipc: true },
  });
  const urls = JSON.parse(subgraphs.url) as Record<string, string>;
  const ids = await subgraphs.request<{ rows: { id: string }[] }>({
    type: 'sql',
    text: `select id from ${CRM}.customer order by name, id`,
  });
  const c2c = operation('portal.CustomerToCash');
  const list = operation('portal.Customers');
  const bodies = [
    ...ids.rows.map((r) =>
      JSON.stringify({
        query: c2c,
        variables: { customerId: r.id, invoicesFirst: 20 },
        operationName: 'CustomerToCash',
      }),
    ),
    ...BUSINESS_UNITS.map((businessUnit) =>
      JSON.stringify({ query: list, variables: { businessUnit, first: 50 }, operationName: 'Customers' }),
    ),
  ];
  const run = (url: string, duration: number) => {
    let next = 0;
    return autocannon({
      url,
      connections,
      duration,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => {
            const i = next++;
            // Principal and body vary independently (7 is prime to both counts).
            return {
              ...request,
              headers: { ...request.headers, authorization: tokens[(i * 7) % tokens.length] as string },
              body: bodies[i % bodies.length] as string,
            };
          },
        },
      ],
    });
  };
  const measure = async (child: BenchChild, behind: BenchChild | null): Promise<LoadResult> => {
    // Warm: every body read at least once (the cache holds them; the floor's JIT is warm).
    await run(child.url, Math.max(2, Math.round(seconds / 2)));
    return measuredLoad(() => run(child.url, seconds), child, behind);
  };

  const results: Record<CachedSystem, LoadResult | null> = {
    oursCachedMemory: null,
    oursCachedRedis: null,
    floor: null,
  };
  const hitRates: CachedReadsReport['hitRates'] = {};
  try {
    for (const system of ['oursCachedMemory', 'oursCachedRedis'] as const) {
      if (system === 'oursCachedRedis' && !options.redisUrl) {
        notes.push('Redis: no REDIS_URL, not measured');
        continue;
      }
      log(`cached reads: ${system}…`);
      let child: BenchChild;
      try {
        child = await spawnChild({
          name: `our gateway (${system})`,
          core: 0,
          command: tsxCommand('cached.child.ts'),
          env: {
            ...(await ourGatewayEnv(urls)),
            ...(system === 'oursCachedRedis'
              ? {
                  ENTITY_CACHE_REDIS_URL: options.redisUrl as string,
                  ENTITY_CACHE_REDIS_PREFIX: `c2c-bench:${randomBytes(4).toString('hex')}:`,
                }
              : {}),
          },
          ready: { ipc: true },
        });
      } catch (error) {
        if (system === 'oursCachedMemory') throw error;
        notes.push(`${system} could not start: ${(error as Error).message.split('\n')[0]}`);
        continue;
      }
      try {
        const start = await lookups(child.url);
        results[system] = await measure(child, subgraphs);
        const end = await lookups(child.url);
        hitRates[system] =
          start && end && end.hit + end.miss > start.hit + start.miss
            ? round((end.hit - start.hit) / (end.hit + end.miss - start.hit - start.miss), 4)
            : null;
      } finally {
        await child.stop();
      }
    }
    if (options.store.kind === 'pglite') {
      // PGlite is one process's: the floor opens the data directory after the subgraphs let go.
      await subgraphs.stop();
      subgraphs = null;
    }
    log('cached reads: floor…');
    const floor = await spawnChild({
      name: 'floor',
      core: 0,
      command: tsxCommand('floor.child.ts'),
      env: { BENCH_STORE: JSON.stringify(options.store) },
      ready: { ipc: true },
    });
    try {
      results.floor = await measure(floor, null);
    } finally {
      await floor.stop();
    }
  } finally {
    await subgraphs?.stop();
  }
  const over = (r: LoadResult | null) =>
    r && results.floor ? round(r.requestsPerSecond / results.floor.requestsPerSecond, 2) : null;
  return {
    principals: PRINCIPALS,
    bodies: bodies.length,
    connections,
    secondsPerRun: seconds,
    results,
    ratios: {
      memoryOverFloor: over(results.oursCachedMemory),
      redisOverFloor: over(results.oursCachedRedis),
    },
    hitRates,
    notes,
  };
}
