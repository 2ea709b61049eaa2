import { join } from 'node:path';
import { buildCustomerSubgraph } from '@c2c/customer';
import { buildFinanceSubgraph } from '@c2c/finance';
import { buildGateway } from '@c2c/gateway';
import { buildSubscriptionSubgraph } from '@c2c/subscription';
import {
  closeServer,
  DatabaseTransport,
  listen,
  openDatabase,
  Signals,
  startSubgraph,
  type Clock,
  type Database,
  type Logger,
  type RetryPolicy,
  type RunningSubgraph,
} from '@c2c/platform';

const ROOT = join(import.meta.dirname, '..');

export interface StackOptions {
  /** Embedded store directory; null for an in-memory PGlite. Ignored when databaseUrl is set. */
  dataDir: string | null;
  databaseUrl?: string | undefined;
  host?: string;
  ports: { gateway: number; customer: number; subscription: number; finance: number };
  log: Logger;
  clock?: Clock;
  /** An already-open database to use instead (tests). */
  database?: Database;
  /** Consumer retries before an event is dead-lettered (default: the transport's). */
  retry?: RetryPolicy;
}

export interface Stack {
  gatewayUrl: string;
  subgraphs: RunningSubgraph[];
  database: Database;
  transport: DatabaseTransport;
  stop(): Promise<void>;
}

/**
 * The embedded deployment shape: one process, one database with a schema per subgraph, the
 * in-database event backbone, three subgraphs on their own ports and the gateway in front.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { log } = options;
  const host = options.host ?? '127.0.0.1';
  const database =
    options.database ??
    (options.databaseUrl
      ? await openDatabase({ kind: 'postgres', url: options.databaseUrl, applicationName: 'c2c-embedded' })
      : await openDatabase({ kind: 'pglite', dataDir: options.dataDir }));
  const signals = new Signals();
  const transport = new DatabaseTransport({
    db: database.db,
    signals,
    log: log.child({ component: 'bus' }),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  const subgraphs: RunningSubgraph[] = [];
  try {
    const builds = [
      [buildCustomerSubgraph, options.ports.customer],
      [buildSubscriptionSubgraph, options.ports.subscription],
      [buildFinanceSubgraph, options.ports.finance],
    ] as const;
    for (const [build, port] of builds) {
      subgraphs.push(
        await startSubgraph({
          db: database.db,
          transport,
          signals,
          log,
          port,
          host,
          build,
          ...(options.clock ? { clock: options.clock } : {}),
        }),
      );
    }
    const gateway = await buildGateway(
      {
        port: options.ports.gateway,
        host,
        supergraphPath: join(ROOT, 'schema', 'supergraph.graphql'),
        subgraphUrls: Object.fromEntries(subgraphs.map((s) => [s.name, s.url])),
        subgraphTimeoutMs: 10_000,
        subgraphMutationTimeoutMs: 120_000,
        logLevel: 'info',
      },
      log,
    );
    const { url } = await listen(gateway.server, options.ports.gateway, host);
    return {
      gatewayUrl: url,
      subgraphs,
      database,
      transport,
      stop: async () => {
        await closeServer(gateway.server);
        await gateway.apollo.stop();
        gateway.agent.destroy();
        for (const subgraph of subgraphs) await subgraph.stop();
        await transport.close();
        if (!options.database) await database.close();
      },
    };
  } catch (error) {
    for (const subgraph of subgraphs) await subgraph.stop().catch(() => undefined);
    await transport.close();
    if (!options.database) await database.close();
    throw error;
  }
}
