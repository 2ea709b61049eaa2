import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { silentLogger, todayUtc } from '@c2c/platform/core';
import { seedDemoBook, type SeedSummary } from '@c2c/apps/seed';
import { startStack } from '@c2c/apps/stack';
import type { StoreSpec } from './child-runtime.ts';
import { BENCH_DIR, ROOT } from './processes.ts';
import { BENCH_RATE_LIMIT } from './security.ts';
import { subgraphsOf } from '@c2c/schema/subgraphs';

/** A hash of what decides the seeded book's shape: migrations, the seed and the operations it sends. */
export function seedKey(customers: number): string {
  const hash = createHash('sha256');
  const dirs = [
    join(ROOT, 'platform', 'migrations'),
    ...subgraphsOf().map((s) => join(s.dir, 'migrations')),
    join(ROOT, 'schema', 'operations'),
  ];
  for (const dir of dirs) {
    for (const file of readdirSync(dir).sort()) {
      hash.update(file);
      hash.update(readFileSync(join(dir, file)));
    }
  }
  hash.update(readFileSync(join(ROOT, 'apps', 'stack', 'seed.ts')));
  hash.update(`customers=${customers}`);
  return hash.digest('hex').slice(0, 12);
}

async function admin(serverUrl: string, statement: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await client.query(statement);
  } finally {
    await client.end();
  }
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function seed(
  target: { dataDir: string } | { databaseUrl: string },
  customers: number,
): Promise<SeedSummary> {
  const stack = await startStack({
    dataDir: 'dataDir' in target ? target.dataDir : null,
    databaseUrl: 'databaseUrl' in target ? target.databaseUrl : undefined,
    ports: { gateway: 0, customer: 0, subscription: 0, finance: 0 },
    log: silentLogger(),
    // The seed is one principal creating a whole book at full speed: on a PostgreSQL server it
    // outruns the production budget (100,000 burst), so it gets the bench's, as every run does.
    gateway: { rateLimit: BENCH_RATE_LIMIT },
  });
  try {
    return await seedDemoBook({
      gatewayUrl: stack.gatewayUrl,
      customers,
      today: todayUtc(),
      // The seeding stack's own issuer (its key is in the seed directory, or in memory).
      headers: { authorization: `Bearer ${await stack.token('admin')}` },
    });
  } finally {
    await stack.stop();
  }
}

export interface PreparedStore {
  spec: StoreSpec;
  /** Whether the seeded book came from the cache. */
  cached: boolean;
  seedSeconds: number;
  describe: string;
}

/**
 * A demo book of `customers` customers for this run: seeded once per seed key into `.bench/`
 * (PGlite) or a `c2c_bench_seed_<key>` database (PostgreSQL), then copied for the run, so the
 * writes of one run never reach the next.
 */
export async function prepareStore(
  customers: number,
  serverUrl: string | null,
  log: (line: string) => void,
): Promise<PreparedStore> {
  const key = seedKey(customers);
  const started = Date.now();
  let cached = true;
  if (serverUrl === null) {
    const seeded = join(BENCH_DIR, `seed-${key}`);
    if (!existsSync(join(seeded, 'pgdata'))) {
      cached = false;
      const building = `${seeded}.building`;
      rmSync(building, { recursive: true, force: true });
      log(`Seeding a demo book of ${customers} customers into ${seeded} (once per schema/seed change)…`);
      await seed({ dataDir: building }, customers);
      renameSync(building, seeded);
    }
    const run = join(BENCH_DIR, 'run', 'store');
    rmSync(run, { recursive: true, force: true });
    cpSync(seeded, run, { recursive: true });
    rmSync(join(run, 'c2c.lock'), { force: true });
    return {
      spec: { kind: 'pglite', dataDir: run },
      cached,
      seedSeconds: (Date.now() - started) / 1000,
      describe: `PGlite (embedded), copy of ${seeded}`,
    };
  }
  const seededName = `c2c_bench_seed_${key}`;
  const exists = await admin(serverUrl, `select 1 from pg_database where datname = '${seededName}'`);
  if (exists.rowCount === 0) {
    cached = false;
    log(`Seeding a demo book of ${customers} customers into database ${seededName}…`);
    const building = `${seededName}_building`;
    await admin(serverUrl, `drop database if exists ${building} with (force)`);
    await admin(serverUrl, `create database ${building}`);
    await seed({ databaseUrl: databaseUrl(serverUrl, building) }, customers);
    await admin(serverUrl, `alter database ${building} rename to ${seededName}`);
  }
  const runName = 'c2c_bench_run';
  await admin(serverUrl, `drop database if exists ${runName} with (force)`);
  await admin(serverUrl, `create database ${runName} template ${seededName}`);
  return {
    spec: { kind: 'postgres', url: databaseUrl(serverUrl, runName) },
    cached,
    seedSeconds: (Date.now() - started) / 1000,
    describe: `PostgreSQL, database ${runName} (template ${seededName})`,
  };
}

/** A scratch store for the scale runs (its own PGlite directory or database). */
export async function scratchStore(name: string, serverUrl: string | null): Promise<StoreSpec> {
  if (serverUrl === null) {
    const dir = join(BENCH_DIR, 'run', name);
    rmSync(dir, { recursive: true, force: true });
    return { kind: 'pglite', dataDir: dir };
  }
  const db = `c2c_bench_${name.replace(/[^a-z0-9_]/g, '_')}`;
  await admin(serverUrl, `drop database if exists ${db} with (force)`);
  await admin(serverUrl, `create database ${db}`);
  return { kind: 'postgres', url: databaseUrl(serverUrl, db) };
}

export async function dropScratch(spec: StoreSpec, serverUrl: string | null): Promise<void> {
  if (spec.kind === 'pglite') rmSync(spec.dataDir, { recursive: true, force: true });
  else if (serverUrl)
    await admin(serverUrl, `drop database if exists ${new URL(spec.url).pathname.slice(1)} with (force)`);
}
