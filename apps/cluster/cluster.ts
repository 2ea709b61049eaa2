import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mintDevToken } from '@c2c/platform/auth';
import { booleanFlag, parseConfig, port, todayUtc, z } from '@c2c/platform/core';
import { startCluster } from './plan.ts';
import { seedDemoBook } from '../stack/seed.ts';
import { subgraphsOf } from '@c2c/schema/subgraphs';

const HELP = `Usage: npm run start:cluster

The scaled-out shape on this machine: builds dist/ and runs, with \`node\`, REPLICAS gateway replicas
behind a round-robin proxy on PORT and REPLICAS replicas of each subgraph (each group behind its own
proxy), on the PostgreSQL in DATABASE_URL (an administrator's URL: it creates one schema and one
login role per subgraph, and each subgraph connects with its own role) and NATS JetStream in
NATS_URL. Logs are prefixed by process. Ctrl+C stops everything cleanly.

Environment:
  DATABASE_URL     required, postgres://… (administrator)
  NATS_URL         required, nats://…
  PORT             gateway proxy port (default 4000)
  REPLICAS         replicas per service (default 2)
  DATA_DIR         the dev issuer's key (default ./.data); tokens: npm run token -- --role portal
  SEED             seed a demo book when the book is empty (default true)
  SEED_CUSTOMERS   demo book size (default 40)
  NATS_STREAM_PREFIX  stream names (default C2C)
  ENTITY_CACHE_REDIS_URL  redis://…: the gateways share an entity cache there, evicted by the
                   events the subgraphs announce on NATS (docs/cache.md); without it the cache is off`;

const Env = z.object({
  DATABASE_URL: z
    .string({ error: 'DATABASE_URL is required: an administrator URL of the PostgreSQL server' })
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  NATS_URL: z
    .string({ error: 'NATS_URL is required: the NATS server with JetStream (nats://…)' })
    .regex(/^nats:\/\//, 'must be a nats:// URL'),
  PORT: port(4000),
  REPLICAS: z.coerce.number().int().min(1).max(8).default(2),
  DATA_DIR: z.string().default('.data'),
  SEED: booleanFlag(true),
  SEED_CUSTOMERS: z.coerce.number().int().min(1).max(100_000).default(40),
  NATS_STREAM_PREFIX: z.string().default('C2C'),
  ENTITY_CACHE_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
});

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  let config: ReturnType<typeof parseConfig<typeof Env>>;
  try {
    config = parseConfig(Env, process.env);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const dataDir = resolve(config.DATA_DIR);
  console.log(
    `starting ${config.REPLICAS}× gateway, ${subgraphsOf()
      .map((s) => s.name)
      .join(', ')}…`,
  );
  const cluster = await startCluster({
    databaseUrl: config.DATABASE_URL,
    natsUrl: config.NATS_URL,
    replicas: config.REPLICAS,
    port: config.PORT,
    dataDir,
    streamPrefix: config.NATS_STREAM_PREFIX,
    ...(config.ENTITY_CACHE_REDIS_URL ? { entityCache: { redisUrl: config.ENTITY_CACHE_REDIS_URL } } : {}),
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping every process…`);
    await cluster.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  const admin = await mintDevToken(dataDir, { role: 'admin', subject: 'cluster-seed' });
  const headers = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
  const answer = await fetch(cluster.gatewayUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: '{ customers(first: 1) { totalCount } }' }),
  });
  const existing = ((await answer.json()) as { data?: { customers?: { totalCount?: number } } }).data
    ?.customers?.totalCount;
  if (config.SEED && existing === 0) {
    console.log(`seeding a demo book of ${config.SEED_CUSTOMERS} customers through the gateway…`);
    const summary = await seedDemoBook({
      gatewayUrl: cluster.gatewayUrl,
      customers: config.SEED_CUSTOMERS,
      today: todayUtc(),
      headers: { authorization: `Bearer ${admin}` },
    });
    console.log(`seeded ${summary.customers} customers, ${summary.subscriptions} subscriptions`);
  }
  console.log(`
Customer-to-cash cluster ready (PostgreSQL + NATS JetStream)
  gateway proxy  ${cluster.gatewayUrl}
${cluster.processes.map((p) => `  ${`${p.name}#${p.replica}`.padEnd(14)} port ${p.port} pid ${p.child?.pid}`).join('\n')}
  TOKEN=$(DATA_DIR=${dataDir} npm run --silent token -- --role portal)
Stop with Ctrl+C.`);
  return new Promise<number>(() => undefined);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`start:cluster failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
