import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
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
import { bookIsEmpty, seedDemoBook } from './seed.ts';
import { startStack } from './stack.ts';

const HELP = `Usage: npm start

Starts the whole customer-to-cash stack in one process: the gateway on PORT and each subgraph of
rover.yaml on <NAME>_PORT (CUSTOMER_PORT 4001, SUBSCRIPTION_PORT 4002, FINANCE_PORT 4003, …), on the
embedded PostgreSQL (PGlite) in DATA_DIR, or on the server in DATABASE_URL. On an empty book it
seeds the demo data first (SEED=false to skip). Configuration is by environment; see README.md.
Bookkeeping rows are pruned hourly: RETENTION_IDEMPOTENCY_HOURS (48), RETENTION_OUTBOX_DAYS (7),
RETENTION_INBOX_DAYS (30), RETENTION_BUS_DAYS (7), RETENTION_AUDIT_DAYS (400), RETENTION_INTERVAL_S
(3600; 0 = off); see docs/operations.md.
C2C_FAULT_POINT=<point> is for fault tests only: the process SIGKILLs itself there (docs/faults.md).`;

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

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const config = parseConfig(Env, process.env);
  const subgraphPorts = parseConfig(SubgraphPortsEnv, process.env);
  const retention = parseConfig(RetentionEnv, process.env);
  const log = createLogger({ name: 'c2c', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  const tracing = setupTracing({ serviceName: 'c2c', env: process.env });
  armFaultPoint(config.C2C_FAULT_POINT);
  if (config.C2C_FAULT_POINT) {
    console.error(`C2C_FAULT_POINT=${config.C2C_FAULT_POINT}: this process will SIGKILL itself there`);
  }
  const stack = await startStack({
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

  if (config.SEED && (await bookIsEmpty(stack.database.db))) {
    const bar = new SingleBar(
      {
        format: 'Seeding demo book |{bar}| {percentage}% · {value}/{total} · {stage} · ETA {eta}s',
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    bar.start(config.SEED_CUSTOMERS * 3 + 1, 0, { stage: 'plans' });
    const started = Date.now();
    const summary = await seedDemoBook({
      gatewayUrl: stack.gatewayUrl,
      customers: config.SEED_CUSTOMERS,
      today: todayUtc(),
      headers: { authorization: `Bearer ${await stack.token({ role: 'admin', subject: 'demo-seed' })}` },
      onProgress: (done, _total, stage) => bar.update(done, { stage }),
    });
    bar.stop();
    console.log(
      `Seeded ${summary.customers} customers, ${summary.plans} plans, ${summary.subscriptions} subscriptions, ` +
        `${summary.renewedPeriods} renewals and ${summary.payments} payments in ${((Date.now() - started) / 1000).toFixed(1)}s.`,
    );
  }
  const where = config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${resolve(config.DATA_DIR)}`;
  console.log(`
Customer-to-cash supergraph ready on ${where}
  gateway        ${stack.gatewayUrl}
${stack.subgraphs.map((s) => `  ${s.name.padEnd(14)} ${s.url}`).join('\n')}
Every request needs a token from the development issuer (key in ${resolve(config.DATA_DIR)}):
  TOKEN=$(${process.env.DATA_DIR ? `DATA_DIR=${config.DATA_DIR} ` : ''}npm run --silent token -- --role portal)
  curl -s ${stack.gatewayUrl} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\
       -d '{"query":"{ customers(first: 3) { totalCount nodes { id name } } }"}'
Stop with Ctrl+C.`);
}

main().catch((error: unknown) => {
  const { code, port: busy } = (error ?? {}) as { code?: string; port?: number };
  if (code === 'EADDRINUSE') {
    console.error(
      `port ${busy} is already in use: stop what holds it, or choose other ports (PORT, ${SUBGRAPHS.map((s) => `${s.envPrefix}_PORT`).join(', ')})`,
    );
  } else {
    console.error(error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
