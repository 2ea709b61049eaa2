import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildGateway,
  explorerExtension,
  gatewayConfigFromEnv,
  subgraphVariables,
  type GatewayConfig,
  type EntityCache,
  type GatewayExtension,
} from '@c2c/gateway';
import { opsExtension } from '@c2c/ops';
import { composeSupergraph, readRoverConfig } from '@c2c/schema/compose';
import { ROVER_CONFIG, subgraphsOf } from '@c2c/schema/subgraphs';
import { DEV_TOKEN_HINT, devIssuer, type MintOptions } from '@c2c/platform/auth';
import { Signals, type Logger } from '@c2c/platform/core';
import { openDatabase, type Database } from '@c2c/platform/db';
import { DatabaseTransport, type CloudEvent, type RetryPolicy } from '@c2c/platform/events';
import { closeServer, listen } from '@c2c/platform/graphql';
import {
  startSubgraph,
  type Clock,
  type RetentionPolicy,
  type RunningSubgraph,
} from '@c2c/platform/subgraph';
import { demoExtension } from './demo.ts';
import { loadSubgraphBuilds } from './subgraph-builds.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export interface StackOptions {
  /** Embedded store directory; null for an in-memory PGlite. Ignored when databaseUrl is set. */
  dataDir: string | null;
  databaseUrl?: string | undefined;
  host?: string;
  /** The gateway's port and each subgraph's by name (0 or absent: a free one). */
  ports: StackPorts;
  /**
   * Another Rover config (tests: rover.yaml plus a throw-away subgraph). The stack starts its
   * subgraphs and composes its supergraph at start; default: rover.yaml and the committed supergraph.
   */
  roverConfig?: string;
  log: Logger;
  clock?: Clock;
  /** An already-open database to use instead (tests). */
  database?: Database;
  /** Consumer retries before an event is dead-lettered (default: the transport's). */
  retry?: RetryPolicy;
  /** Gateway settings to change (tests run it in production configuration, with tight limits). */
  gateway?: Partial<GatewayConfig>;
  /** The retention job of every subgraph's bookkeeping rows and the bus (off when absent). */
  retention?: { policy: RetentionPolicy; intervalMs: number };
  /**
   * Start with /readyz answering 503 `seeding` until `readiness.ready()` (npm start, while it
   * checks for and seeds the demo book).
   */
  holdReadiness?: boolean;
  /** The environment each subgraph parses its own settings from (ERP_ADAPTER …); default empty. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** What /readyz says while the demo book is being seeded. */
export interface SeedingProgress {
  done: number;
  total: number;
  stage: string;
}

/** The stack's own hold on the gateway's /readyz (a gateway extension). */
export interface StackReadiness {
  /** /readyz answers 503 `{"status":"seeding","seeding":{done,total,percent,stage}}`. */
  seeding(progress: SeedingProgress): void;
  /** /readyz answers as the gateway does: ready when every subgraph is. */
  ready(): void;
}

/** A subgraph of the stack, by its name in rover.yaml (also its database schema). */
export type SubgraphName = string;

/** `gateway` and, per subgraph name, the port to listen on. */
export type StackPorts = { gateway: number } & Partial<Record<SubgraphName, number>>;

export interface Stack {
  gatewayUrl: string;
  /** The gateway's entity cache (null when ENTITY_CACHE=off): its metrics and tests look at it. */
  cache: EntityCache | null;
  /**
   * Mints a token from the stack's development issuer (its key lives in the data directory, or
   * in memory for an in-memory stack): `token('portal')`, or with a subject and scopes.
   */
  token(role: MintOptions['role'] | MintOptions): Promise<string>;
  /** Subgraph name → the secret the gateway signs its requests with. */
  secrets: Record<SubgraphName, string>;
  /** The subgraphs running now, in start order. */
  subgraphs: RunningSubgraph[];
  database: Database;
  transport: DatabaseTransport;
  readiness: StackReadiness;
  /**
   * Stops one subgraph — its server, outbox relay and consumers — as if its system were down; the
   * gateway keeps routing to its port and gets connection errors. Its events wait in the bus.
   */
  stopSubgraph(name: SubgraphName): Promise<void>;
  /** Starts a stopped subgraph again on the port it had, so the gateway finds it where it was. */
  startSubgraph(name: SubgraphName): Promise<void>;
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
  const list = subgraphsOf(options.roverConfig ?? ROVER_CONFIG);
  const builds = new Map((await loadSubgraphBuilds(list)).map(({ info, build }) => [info.name, build]));
  const ports: Record<SubgraphName, number> = Object.fromEntries(
    list.map((s) => [s.name, options.ports[s.name] ?? 0]),
  );
  // One process: the gateway and the subgraphs share fresh secrets; nothing else can sign.
  const secrets: Record<SubgraphName, string> = Object.fromEntries(
    list.map((s) => [s.name, randomBytes(32).toString('hex')]),
  );
  const issuer = await devIssuer(options.dataDir);
  // The gateway's entity cache hears, in process, of every event a subgraph applied or published
  // (docs/cache.md); the subgraphs start first, when there is no cache yet to evict from.
  let evict: ((events: CloudEvent[]) => void) | null = null;
  const start = async (name: SubgraphName) => {
    const running = await startSubgraph({
      secret: secrets[name]!,
      db: database.db,
      transport,
      signals,
      log,
      port: ports[name] ?? 0,
      host,
      build: builds.get(name)!,
      onEventsApplied: (events) => evict?.(events),
      // The embedded shape has no event backbone: a NATS_URL in the shell starts nothing on NATS
      // (billing consumes usage from NATS only in the scaled-out shape, docs/usage.md).
      ...(options.env ? { env: { ...options.env, NATS_URL: undefined } } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      // The bus is shared: each subgraph's job may prune it, one at a time (an advisory lock).
      ...(options.retention ? { retention: { ...options.retention, bus: true } } : {}),
    });
    // Port 0 picks a free port once; a restart reuses it, as the gateway was configured with it.
    ports[name] = running.port;
    return running;
  };
  const readinessGate = gate(
    options.holdReadiness ? { done: 0, total: 0, stage: 'checking the demo book' } : null,
  );
  try {
    for (const { name } of list) subgraphs.push(await start(name));
    // The gateway's own defaults (gatewayConfigFromEnv), with what differs in one process: the
    // subgraphs' ports and fresh secrets, the dev issuer's keys, and room for the demo seed.
    const defaults = gatewayConfigFromEnv({
      SUPERGRAPH_PATH: options.roverConfig
        ? composedSupergraph(options.roverConfig)
        : join(ROOT, 'schema', 'supergraph.graphql'),
      LOG_LEVEL: 'info',
      ...Object.fromEntries(list.map(({ name }) => [subgraphVariables(name).secret, secrets[name]])),
    });
    const gatewayConfig: GatewayConfig = {
      ...defaults,
      port: options.ports.gateway,
      host,
      subgraphUrls: Object.fromEntries(subgraphs.map((s) => [s.name, s.url])),
      subgraphMutationTimeoutMs: 120_000,
      auth: { ...defaults.auth, jwks: issuer.jwks, tokenHint: DEV_TOKEN_HINT },
      dataDir: options.dataDir ?? '',
      rateLimit: { costPerMinute: 600_000, burst: 100_000 },
      ...options.gateway,
    };
    const gateway = await buildGateway(
      gatewayConfig,
      log,
      [
        readinessGate.extension,
        opsExtension({
          operationsDir: gatewayConfig.operationsDir,
          safelistMode: gatewayConfig.safelistMode,
          ...(gatewayConfig.reconcileIntervalSeconds !== undefined
            ? { reconcileIntervalSeconds: gatewayConfig.reconcileIntervalSeconds }
            : {}),
          log,
        }),
        // Development only: the GraphiQL explorer at /graphiql, and the route of `c2c demo exception`.
        ...(gatewayConfig.production ? [] : [explorerExtension(), demoExtension(database.db, issuer.jwks)]),
      ],
      { deliversEvents: true },
    );
    const cache = gateway.cache;
    if (cache)
      evict = (events) => {
        cache
          .applied(events)
          .catch((error: unknown) => log.error({ err: error }, 'entity cache eviction failed'));
      };
    const { url } = await listen(gateway.server, options.ports.gateway, host);
    return {
      gatewayUrl: url,
      cache,
      token: (role) => issuer.mint(typeof role === 'string' ? { role } : role),
      secrets,
      subgraphs,
      database,
      transport,
      readiness: readinessGate.readiness,
      stopSubgraph: async (name) => {
        const index = subgraphs.findIndex((s) => s.name === name);
        const running = subgraphs[index];
        if (!running) throw new Error(`subgraph ${name} is not running`);
        subgraphs.splice(index, 1);
        await running.stop();
      },
      startSubgraph: async (name) => {
        if (!builds.has(name)) throw new Error(`no subgraph ${name} in the Rover config`);
        if (subgraphs.some((s) => s.name === name)) throw new Error(`subgraph ${name} is already running`);
        subgraphs.push(await start(name));
      },
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

function gate(initial: SeedingProgress | null): { extension: GatewayExtension; readiness: StackReadiness } {
  let seeding = initial;
  return {
    extension: {
      readiness: () =>
        seeding && {
          status: 'seeding',
          seeding: {
            ...seeding,
            percent: seeding.total ? Math.floor((100 * seeding.done) / seeding.total) : 0,
          },
        },
    },
    readiness: {
      seeding: (progress) => {
        seeding = { ...progress };
      },
      ready: () => {
        seeding = null;
      },
    },
  };
}

/** Composes a Rover config into a supergraph file in a temporary directory; throws on composition errors. */
function composedSupergraph(roverConfig: string): string {
  const result = composeSupergraph(readRoverConfig(roverConfig));
  if (result.errors)
    throw new Error(`${roverConfig} does not compose: ${result.errors.map((e) => e.message).join('; ')}`);
  const file = join(mkdtempSync(join(tmpdir(), 'c2c-supergraph-')), 'supergraph.graphql');
  writeFileSync(file, result.supergraphSdl);
  return file;
}
