import { resolve } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import {
  armFaultPoint,
  booleanFlag,
  createLogger,
  FAULT_POINTS,
  parseConfig,
  port,
  todayUtc,
  z,
} from '@c2c/platform/core';
import { DEFAULT_RETRY } from '@c2c/platform/events';
import { setupTracing } from '@c2c/platform/observability';
import { policyFromEnv, RetentionEnv } from '@c2c/platform/subgraph';
import { subgraphsOf } from '@c2c/schema/subgraphs';
import {
  bookIsEmpty,
  recordSeedCompleted,
  recordSeedStarted,
  seedDemoBook,
  seedRecord,
  seedUnits,
} from './seed.ts';
import { GatewayEnv } from '@c2c/gateway/config';
import { startStack, type Stack } from './stack.ts';

const Env = z.object({
  PORT: port(4000),
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().default('.data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  SEED: booleanFlag(true),
  SEED_CUSTOMERS: z.coerce.number().int().min(1).max(100_000).default(240),
  EVENT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(DEFAULT_RETRY.maxAttempts),
  EVENT_RETRY_BASE_MS: z.coerce.number().int().min(1).max(600_000).default(DEFAULT_RETRY.baseDelayMs),
  EVENT_RETRY_MAX_MS: z.coerce.number().int().min(1).max(3_600_000).default(DEFAULT_RETRY.maxDelayMs),
  RECONCILE_INTERVAL_S: z.coerce.number().int().min(0).max(86_400).default(300),
  // The gateway's entity cache (docs/cache.md): the same settings as a gateway on its own.
  ENTITY_CACHE: GatewayEnv.shape.ENTITY_CACHE,
  ENTITY_CACHE_MAX_BYTES: GatewayEnv.shape.ENTITY_CACHE_MAX_BYTES,
  ENTITY_CACHE_MAX_AGE_S: GatewayEnv.shape.ENTITY_CACHE_MAX_AGE_S,
  CORS_ORIGINS: z.string().default(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  LOG_PRETTY: booleanFlag(process.stdout.isTTY === true),
  /** Fault tests only (docs/faults.md): the process kills itself with SIGKILL at this point. */
  C2C_FAULT_POINT: z.enum(FAULT_POINTS).optional(),
});

/** Each subgraph of rover.yaml listens on <NAME>_PORT, by default 4001, 4002, … in rover.yaml's order. */
const SUBGRAPHS = subgraphsOf();
const SubgraphPortsEnv = z.object(
  Object.fromEntries(SUBGRAPHS.map((s, i) => [`${s.envPrefix}_PORT`, port(4001 + i)])),
);

/** The stack of `npm start` (apps/stack/start.ts prints its first line, then loads this). */
export async function main(): Promise<void> {
  const config = parseConfig(Env, process.env);
  const subgraphPorts = parseConfig(SubgraphPortsEnv, process.env);
  const retention = parseConfig(RetentionEnv, process.env);
  const log = createLogger({ name: 'c2c', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  const tracing = setupTracing({ serviceName: 'c2c', env: process.env });
  armFaultPoint(config.C2C_FAULT_POINT);
  if (config.C2C_FAULT_POINT) {
    console.error(`C2C_FAULT_POINT=${config.C2C_FAULT_POINT}: this process will SIGKILL itself there`);
  }
  const where = config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${resolve(config.DATA_DIR)}`;
  console.log(`Opening ${where}, starting ${SUBGRAPHS.map((s) => s.name).join(', ')} and the gateway…`);
  const stack = await startStack({
    holdReadiness: true,
    env: process.env,
    dataDir: resolve(config.DATA_DIR),
    databaseUrl: config.DATABASE_URL,
    host: config.HOST,
    ports: {
      gateway: config.PORT,
      ...Object.fromEntries(SUBGRAPHS.map((s) => [s.name, subgraphPorts[`${s.envPrefix}_PORT`]!])),
    },
    log,
    gateway: {
      corsOrigins: config.CORS_ORIGINS.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
      reconcileIntervalSeconds: config.RECONCILE_INTERVAL_S,
      entityCache: {
        enabled: config.ENTITY_CACHE === 'on',
        maxBytes: config.ENTITY_CACHE_MAX_BYTES,
        maxAgeSeconds: config.ENTITY_CACHE_MAX_AGE_S,
      },
    },
    retention: { policy: policyFromEnv(retention), intervalMs: retention.RETENTION_INTERVAL_S * 1000 },
    retry: {
      maxAttempts: config.EVENT_MAX_ATTEMPTS,
      baseDelayMs: config.EVENT_RETRY_BASE_MS,
      maxDelayMs: Math.max(config.EVENT_RETRY_MAX_MS, config.EVENT_RETRY_BASE_MS),
    },
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping…`);
    try {
      await stack.stop();
      await tracing.shutdown();
      process.exit(0);
    } catch (error) {
      console.error(`could not stop cleanly: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  if (config.SEED) await seedIfNeeded(stack, config.SEED_CUSTOMERS);
  stack.readiness.ready();
  console.log(`
Customer-to-cash supergraph ready on ${where}
  gateway        ${stack.gatewayUrl}
${stack.subgraphs.map((s) => `  ${s.name.padEnd(14)} ${s.url}`).join('\n')}
Every request needs a token from the development issuer (key in ${resolve(config.DATA_DIR)}):
  TOKEN=$(${process.env.DATA_DIR ? `DATA_DIR=${config.DATA_DIR} ` : ''}npm run --silent token -- --role portal)
  curl -s ${stack.gatewayUrl} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\
       -d '{"query":"{ customers(first: 3) { totalCount nodes { id name } } }"}'
Explore the API in a browser (development only): ${stack.gatewayUrl.replace(/\/graphql$/, '/graphiql')}
The ops console (finance or admin token): ${stack.gatewayUrl.replace(/\/graphql$/, '/ops')}
Stop with Ctrl+C.

Ready: ${stack.gatewayUrl}`);
}

/**
 * Seeds the demo book when the database has none, or finishes one that an interrupted start left
 * unfinished (the seed's record in the database says which), and says which on the console.
 */
async function seedIfNeeded(stack: Stack, customers: number): Promise<void> {
  const db = stack.database.db;
  const record = await seedRecord(db);
  if (record?.completedAt) return;
  let today = todayUtc();
  if (record) {
    // Every write of the seed has an idempotency key derived from (customers, today): running it
    // again with the same two answers what was done from the records and does the rest.
    ({ customers, today } = record);
    console.log(
      `The demo seed started ${record.startedAt.toISOString()} was interrupted: finishing it ` +
        `(${customers} customers as of ${today}; what was done is not done twice).`,
    );
  } else if (await bookIsEmpty(stack.gatewayUrl, await seedHeaders(stack))) {
    await recordSeedStarted(db, { customers, today });
    console.log(
      `Seeding a demo book of ${customers} customers through the gateway (SEED_CUSTOMERS; SEED=false to skip)…`,
    );
  } else {
    return; // A book seeded before seeds were recorded, or one of your own: left as it is.
  }
  const report = progressReporter(seedUnits(customers));
  const started = Date.now();
  const summary = await seedDemoBook({
    gatewayUrl: stack.gatewayUrl,
    customers,
    today,
    headers: await seedHeaders(stack),
    onProgress: (done, total, stage) => {
      report.update(done, stage);
      stack.readiness.seeding({ done, total, stage });
    },
  });
  report.stop();
  await recordSeedCompleted(db);
  console.log(
    `Seeded ${summary.customers} customers, ${summary.plans} plans, ${summary.subscriptions} subscriptions, ` +
      `${summary.renewedPeriods} renewals and ${summary.payments} payments in ${((Date.now() - started) / 1000).toFixed(1)}s.`,
  );
}

/** The seed's identity at the gateway: an admin token of the stack's development issuer. */
async function seedHeaders(stack: Stack): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await stack.token({ role: 'admin', subject: 'demo-seed' })}` };
}

/** A progress bar on a terminal; elsewhere (a log, a test) one line per stage and every tenth. */
function progressReporter(total: number): { update(done: number, stage: string): void; stop(): void } {
  if (process.stdout.isTTY) {
    const bar = new SingleBar(
      {
        format: 'Seeding demo book |{bar}| {percentage}% · {value}/{total} · {stage} · ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 60,
        fps: 5,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { stage: 'plans' });
    return { update: (done, stage) => bar.update(done, { stage }), stop: () => bar.stop() };
  }
  let last = { tenth: -1, stage: '' };
  return {
    update(done, stage) {
      const tenth = Math.floor((10 * done) / total);
      const phase = stage.replace(/ \d{4}-\d{2}-\d{2}$/, '');
      if (tenth === last.tenth && phase === last.stage) return;
      last = { tenth, stage: phase };
      console.log(`Seeding demo book: ${Math.floor((100 * done) / total)}% (${done}/${total}, ${stage})`);
    },
    stop: () => undefined,
  };
}

/** How `npm start` ends on an error: one line that says what to do, exit 1. */
export function failed(error: unknown): never {
  const { code, port: busy } = (error ?? {}) as { code?: string; port?: number };
  if (code === 'EADDRINUSE') {
    console.error(
      `port ${busy} is already in use: stop what holds it, or choose other ports (PORT, ${SUBGRAPHS.map((s) => `${s.envPrefix}_PORT`).join(', ')})`,
    );
  } else {
    console.error(error instanceof Error ? error.message : error);
  }
  process.exit(1);
}
