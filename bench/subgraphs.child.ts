import type { IncomingMessage } from 'node:http';
import { sql } from 'kysely';
import { createLogger, Signals } from '@c2c/platform/core';
import { openDatabase } from '@c2c/platform/db';
import { DatabaseTransport } from '@c2c/platform/events';
import { startSubgraph, type RunningSubgraph } from '@c2c/platform/subgraph';
import { loadSubgraphBuilds } from '@c2c/apps/subgraph-builds';
import { runChild, storeFromEnv } from './child-runtime.ts';
import { secretsFromEnv } from './security.ts';

// The three subgraphs in one process, shared by every gateway under test so that only the gateway
// differs. Each verifies the gateway's signature with this bench run's secret (BENCH_SUBGRAPH_SECRETS)
// and refuses unsigned requests, as in production. Counts the HTTP requests each subgraph receives
// and every SQL statement executed. BENCH_EVENTS=false runs no relay and no consumers, so the SQL
// count is the reads' alone.

runChild(async () => {
  const store = storeFromEnv();
  const secrets = secretsFromEnv();
  const events = process.env.BENCH_EVENTS !== 'false';
  const log = createLogger({ name: 'bench-subgraphs', level: 'warn', pretty: false });
  const database =
    store.kind === 'postgres'
      ? await openDatabase({ kind: 'postgres', url: store.url, poolSize: 10, applicationName: 'c2c-bench' })
      : await openDatabase({ kind: 'pglite', dataDir: store.dataDir });
  let sqlCount = 0;
  database.onQuery(() => sqlCount++);
  const signals = new Signals();
  const transport = new DatabaseTransport({ db: database.db, signals, log });
  const requests: Record<string, number> = {};
  const subgraphs: RunningSubgraph[] = [];
  for (const {
    info: { name },
    build,
  } of await loadSubgraphBuilds()) {
    const running = await startSubgraph({
      db: database.db,
      transport,
      signals,
      log,
      port: 0,
      host: '127.0.0.1',
      build,
      events,
      secret: secrets[name]!,
    });
    if (running.name !== name) throw new Error(`expected subgraph ${name}, started ${running.name}`);
    requests[running.name] = 0;
    running.server.prependListener('request', (req: IncomingMessage) => {
      if (req.url?.startsWith('/graphql')) requests[running.name] = (requests[running.name] ?? 0) + 1;
    });
    subgraphs.push(running);
  }
  return {
    url: JSON.stringify(Object.fromEntries(subgraphs.map((s) => [s.name, s.url]))),
    handle: async (message) => {
      switch (message.type) {
        case 'counters':
          return { requests: { ...requests }, sql: sqlCount };
        case 'sql': {
          const result = await sql.raw(String(message.text)).execute(database.db);
          return { rows: result.rows };
        }
        default:
          throw new Error(`unknown request ${message.type}`);
      }
    },
    stop: async () => {
      for (const subgraph of subgraphs) await subgraph.stop();
      await transport.close();
      await database.close();
    },
  };
});
