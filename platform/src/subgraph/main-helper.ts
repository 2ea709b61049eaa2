import { parseConfig } from '../core/config.ts';
import { armFaultPoint } from '../core/faults.ts';
import { SubgraphEnv } from './env.ts';
import { openDatabase } from '../db/db.ts';
import { createLogger } from '../core/logger.ts';
import { policyFromEnv, RetentionEnv } from './retention.ts';
import { startSubgraph, type StartSubgraphOptions } from './runtime.ts';
import { setupTracing } from '../observability/tracing.ts';
import { Signals } from '../core/signals.ts';
import { createTransport } from '../events/transport-factory.ts';
import { NatsTransport } from '../events/nats-transport.ts';
import type { CloudEvent } from '../events/events.ts';

/**
 * The body of every subgraph's `main.ts`: parse the environment, open PostgreSQL, start, and stop
 * cleanly on SIGTERM/SIGINT. Only entry points call this; it is the one place that reads process.env.
 */
export async function runSubgraphProcess(name: string, build: StartSubgraphOptions['build']): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(
      `Usage: node ${name} subgraph main\n\nEnvironment: PORT, HOST, DATABASE_URL (required), SUBGRAPH_SECRET (required, ≥32 characters),\nNATS_URL (NATS JetStream; without it events go through the database), NATS_STREAM_PREFIX, NATS_STREAM_REPLICAS, NATS_ACK_WAIT_MS,\nNATS_BATCH_MAX (64; 1 = no batches), METRICS_TOKEN, DB_POOL_SIZE, LOG_LEVEL;\nretention of bookkeeping rows: RETENTION_IDEMPOTENCY_HOURS (48), RETENTION_OUTBOX_DAYS (7), RETENTION_INBOX_DAYS (30),\nRETENTION_BUS_DAYS (7), RETENTION_AUDIT_DAYS (400), RETENTION_INTERVAL_S (3600; 0 = off).`,
    );
    return;
  }
  let config: ReturnType<typeof parseConfig<typeof SubgraphEnv>>;
  let retention: ReturnType<typeof parseConfig<typeof RetentionEnv>>;
  try {
    config = parseConfig(SubgraphEnv, process.env);
    retention = parseConfig(RetentionEnv, process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
    return;
  }
  const log = createLogger({ name, level: config.LOG_LEVEL });
  armFaultPoint(config.C2C_FAULT_POINT);
  if (config.C2C_FAULT_POINT)
    log.warn(
      { faultPoint: config.C2C_FAULT_POINT },
      'fault point armed: this process will SIGKILL itself there',
    );
  const tracing = setupTracing({ serviceName: name, env: process.env });
  let started: { running: Awaited<ReturnType<typeof startSubgraph>>; close: () => Promise<void> };
  try {
    started = await start(name, build, config, retention, log);
  } catch (error) {
    // A clear last word instead of an unhandled rejection: a wrong URL or secret, no database, no NATS.
    log.fatal({ err: error }, `could not start the ${name} subgraph: ${(error as Error).message}`);
    process.exit(1);
  }
  const { running } = started;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, async () => {
      log.info({ signal }, 'stopping');
      await running.stop();
      await started.close();
      await tracing.shutdown();
      process.exit(0);
    });
  }
}

async function start(
  name: string,
  build: StartSubgraphOptions['build'],
  config: ReturnType<typeof parseConfig<typeof SubgraphEnv>>,
  retention: ReturnType<typeof parseConfig<typeof RetentionEnv>>,
  log: ReturnType<typeof createLogger>,
) {
  const database = await openDatabase({
    kind: 'postgres',
    url: config.DATABASE_URL,
    poolSize: config.DB_POOL_SIZE,
    applicationName: `c2c-${name}`,
  });
  const signals = new Signals();
  const transport = await createTransport({
    natsUrl: config.NATS_URL,
    streamPrefix: config.NATS_STREAM_PREFIX,
    ackWaitMs: config.NATS_ACK_WAIT_MS,
    batchMax: config.NATS_BATCH_MAX,
    streamReplicas: config.NATS_STREAM_REPLICAS,
    connectionName: `c2c-${name}`,
    announceAs: name,
    db: database.db,
    signals,
    log,
  }).catch(async (error: unknown) => {
    await database.close().catch(() => undefined);
    throw error;
  });
  try {
    const running = await startSubgraph({
      db: database.db,
      transport,
      signals,
      log,
      port: config.PORT,
      host: config.HOST,
      build,
      env: process.env,
      secret: config.SUBGRAPH_SECRET,
      // The scaled-out shape: every gateway replica hears what this process applied or published
      // (c2c.applied) and evicts it from the entity cache (docs/cache.md).
      ...(transport instanceof NatsTransport
        ? { onEventsApplied: (events: CloudEvent[]) => transport.announceApplied(events) }
        : {}),
      onQuery: database.onQuery,
      ...(database.listen ? { listen: database.listen } : {}),
      ...(config.METRICS_TOKEN ? { metricsToken: config.METRICS_TOKEN } : {}),
      retention: {
        policy: policyFromEnv(retention),
        intervalMs: retention.RETENTION_INTERVAL_S * 1000,
        // Without NATS the events travel through the database's bus, which is pruned too.
        bus: !config.NATS_URL,
      },
    });
    return {
      running,
      close: async () => {
        await transport.close();
        await database.close();
      },
    };
  } catch (error) {
    await transport.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw error;
  }
}
