import type { Server } from 'node:http';
import { sql } from 'kysely';
import { Counter } from 'prom-client';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { Logger } from 'pino';
import { storageReady } from '../core/connection-loss.ts';
import { startConsumer } from '../events/consumer.ts';
import type { DeadLetterEffect, EventEffect } from '../events/reading.ts';
import type { AnyDb } from '../db/db.ts';
import { auditLogResolver, auditPlugin } from '../graphql/audit.ts';
import type { Principal } from '../auth/authorization.ts';
import {
  buildSubgraphServer,
  closeServer,
  correlationIdOf,
  createGraphQLHttpServer,
  listen,
  type RequestContext,
} from '../graphql/graphql-server.ts';
import { NonceCache, verifyRequest } from '../auth/request-signing.ts';
import { deadLetterResolvers } from '../events/dead-letters.ts';
import { consumerSourcesFrom, type EventCatalogView } from '../events/event-catalog.ts';
import { registerEventMetrics } from '../events/event-metrics.ts';
import { createMetrics, type Metrics, type MetricsSink } from '../observability/metrics.ts';
import { migrate } from '../db/migrations.ts';
import { OutboxRelay, outboxChannel, outboxTopic } from '../events/relay.ts';
import { startRetentionJob, type RetentionJob, type RetentionPolicy } from './retention.ts';
import { traceLogFields } from '../observability/tracing.ts';
import type { Signals } from '../core/signals.ts';
import type { CloudEvent } from '../events/events.ts';
import type { EventTransport, Subscription } from '../events/transport.ts';

/** A clock, injected so tests can pin "today". */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** What a subgraph is built from: injected, so tests and the one-process start share it. */
export interface SubgraphDeps {
  db: AnyDb;
  log: Logger;
  clock: Clock;
  /** Call after a commit that appended to this subgraph's outbox. */
  afterCommit: () => void;
  /**
   * The process environment the composition root was started with: a subgraph parses its own
   * settings from it (for example which adapter fronts its system of record). Empty in tests.
   */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * A built subgraph: its contract, resolvers, per-request context and event consumers. The context
 * has no `db` (a compile error): resolvers reach data only through domain services and loaders.
 */
export interface SubgraphDefinition<C extends RequestContext & { db?: never } = RequestContext> {
  /** Subgraph name; also its database schema and the CloudEvents `source`. */
  name: string;
  migrationsDir: string;
  typeDefs: string;
  resolvers: GraphQLResolverMap<unknown>;
  createContext(base: RequestContext): C & { db?: never };
  /** Durable consumer name → event type → effect. */
  consumers: Record<string, Record<string, EventEffect>>;
  /**
   * The event catalog (schema/events/catalog.json). The runtime checks the consumers against it at
   * start and derives from it, per consumer, the sources (subgraph names) its event types come
   * from, so that a transport with a stream per source (NATS) attaches each consumer to exactly
   * those. Without a catalog every consumer reads every source.
   */
  eventCatalog?: EventCatalogView;
  /** Optional reaction, in the same transaction, to a consumer of this subgraph dead-lettering an event. */
  onDeadLetter?: DeadLetterEffect;
  /**
   * Root fields (declared in the subgraph's SDL) through which operators list and replay this
   * subgraph's dead letters; the runtime resolves them with the subgraph's own consumers.
   */
  deadLetterFields?: { query: string; mutation: string };
  /** Root query field (declared in the SDL) listing this subgraph's audit log of mutations. */
  auditLogField?: string;
  /** Business gauges of this subgraph's own data, read at scrape time (GET /metrics). */
  metrics?: (sink: MetricsSink) => void;
  /**
   * Runs after the migrations, before consumers and the server start: checks what the subgraph
   * needs from outside (an external system of record's connection and credentials). A failure
   * stops the start with its message.
   */
  connect?: (log: Logger) => Promise<void>;
  /** Runs last when the subgraph stops (closes sessions to external systems). */
  close?: () => Promise<void>;
}

export interface RunningSubgraph {
  name: string;
  url: string;
  port: number;
  server: Server;
  relay: OutboxRelay;
  /** This subgraph's registry, served on GET /metrics of its port. */
  metrics: Metrics;
  /** The retention job, when one was asked for. */
  retention?: RetentionJob;
  stop(): Promise<void>;
}

export interface StartSubgraphOptions {
  db: AnyDb;
  transport: EventTransport;
  signals: Signals;
  log: Logger;
  clock?: Clock;
  port: number;
  host?: string;
  build: (deps: SubgraphDeps) => SubgraphDefinition<RequestContext>;
  /** The environment handed to the subgraph's build (`SubgraphDeps.env`); default empty. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Run the outbox relay and consumers in this process (default true). */
  events?: boolean;
  /**
   * The secret the gateway signs this subgraph's requests with. Every GraphQL request — `_entities`
   * and `_service` included — must carry a valid, fresh, unused signature, or it is refused with
   * 401 before execution.
   */
  secret: string;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
  /**
   * The retention job for this subgraph's bookkeeping rows (platform/src/subgraph/retention.ts); `bus` also
   * prunes the in-database bus. Without it nothing is pruned.
   */
  retention?: { policy: RetentionPolicy; intervalMs: number; bus: boolean };
  /**
   * Told of every event once this subgraph's data reflects it: its own, when the relay published
   * them (their transaction committed), and others', when a consumer (or a replay) applied them.
   * The gateway's entity cache evicts what they change (docs/cache.md).
   */
  onEventsApplied?: (events: CloudEvent[]) => void;
  /**
   * Observes every SQL statement this process executes (`Database.onQuery`): counted as
   * `c2c_sql_statements_total` on GET /metrics (the write benchmark reads statements per amendment).
   */
  onQuery?: (listener: (sql: string) => void) => () => void;
  /**
   * PostgreSQL's LISTEN (`Database.listen`): when given, the relay is woken by the outbox trigger's
   * NOTIFY, which every replica's appending commits send, instead of by this process's own commits.
   */
  listen?: (channel: string, listener: () => void) => Promise<() => void>;
}

/** The subgraph's resolvers plus the platform's fields it declares: dead letters and audit log. */
function withPlatformFields(
  definition: SubgraphDefinition<RequestContext>,
  db: AnyDb,
  log: Logger,
  afterCommit: () => void,
  onApplied?: (event: CloudEvent) => void,
): GraphQLResolverMap<unknown> {
  const resolvers = definition.resolvers as Record<string, Record<string, unknown>>;
  const fields = definition.deadLetterFields;
  const deadLetters = fields
    ? deadLetterResolvers({
        db,
        schema: definition.name,
        consumers: definition.consumers,
        log,
        afterCommit,
        ...(onApplied ? { onApplied } : {}),
        queryField: fields.query,
        mutationField: fields.mutation,
      })
    : { Query: {}, Mutation: {} };
  const audit = definition.auditLogField
    ? { [definition.auditLogField]: auditLogResolver(db, definition.name) }
    : {};
  return {
    ...resolvers,
    Query: { ...resolvers.Query, ...deadLetters.Query, ...audit },
    Mutation: { ...resolvers.Mutation, ...deadLetters.Mutation },
  } as GraphQLResolverMap<unknown>;
}

/** Migrates, starts the relay and consumers, and listens: everything a subgraph process does. */
export async function startSubgraph(options: StartSubgraphOptions): Promise<RunningSubgraph> {
  const { db, transport, signals, log } = options;
  let schemaName = '';
  // The relay's wake-up after a commit that appended to the outbox: in-process, unless the outbox
  // trigger's NOTIFY does it (then an in-process signal would only wake the relay twice).
  let notified = false;
  const wakeRelay = () => {
    if (!notified) signals.notify(outboxTopic(schemaName));
  };
  const definition = options.build({
    db,
    log,
    clock: options.clock ?? { now: () => new Date() },
    afterCommit: wakeRelay,
    env: options.env ?? {},
  });
  schemaName = definition.name;
  const consumerSources = definition.eventCatalog
    ? consumerSourcesFrom(definition.eventCatalog, definition.name, definition.consumers)
    : undefined;
  const sourcesOf = (consumer: string) => consumerSources?.[consumer];
  const subgraphLog = log.child({ subgraph: definition.name });
  const report = await migrate(db, definition.name, definition.migrationsDir);
  if (report.applied.length) subgraphLog.info({ applied: report.applied }, 'migrations applied');
  await definition.connect?.(subgraphLog);

  const applied = options.onEventsApplied;
  const onApplied = applied && ((event: CloudEvent) => applied([event]));
  const relay = new OutboxRelay({
    db,
    schema: definition.name,
    transport,
    signals,
    log: subgraphLog,
    ...(applied ? { onPublished: applied } : {}),
  });
  const subscriptions: Subscription[] = [];
  let stopNotifications = () => {};
  if (options.events !== false) {
    if (options.listen) {
      stopNotifications = await options.listen(outboxChannel(definition.name), () =>
        signals.notify(outboxTopic(definition.name)),
      );
      notified = true;
    }
    for (const [consumer, handlers] of Object.entries(definition.consumers)) {
      await transport.declare(consumer, Object.keys(handlers), sourcesOf(consumer));
    }
    relay.start();
    for (const [consumer, handlers] of Object.entries(definition.consumers)) {
      subscriptions.push(
        await startConsumer({
          db,
          schema: definition.name,
          consumer,
          handlers,
          sources: sourcesOf(consumer),
          transport,
          log: subgraphLog,
          afterCommit: wakeRelay,
          ...(onApplied ? { onApplied } : {}),
          ...(definition.onDeadLetter ? { onDeadLetter: definition.onDeadLetter } : {}),
        }),
      );
    }
  }

  const metrics = createMetrics({
    service: definition.name,
    log: subgraphLog,
    ...(options.metricsToken ? { token: options.metricsToken } : {}),
  });
  registerEventMetrics(metrics, {
    db,
    schema: definition.name,
    transport,
    consumers: Object.keys(definition.consumers),
  });
  definition.metrics?.(metrics);
  let stopCounting = () => {};
  if (options.onQuery) {
    const statements = new Counter({
      name: 'c2c_sql_statements_total',
      help: 'SQL statements this process executed (BEGIN and COMMIT included: Kysely sends them as statements)',
      registers: [metrics.registry],
    });
    const stop = options.onQuery(() => statements.inc());
    stopCounting = () => void stop();
  }

  const apollo = buildSubgraphServer<RequestContext>({
    typeDefs: definition.typeDefs,
    resolvers: withPlatformFields(definition, db, subgraphLog, wakeRelay, onApplied),
    plugins: [auditPlugin(db, definition.name, subgraphLog), metrics.plugin<RequestContext>()],
  });
  await apollo.start();
  if (!options.secret || options.secret.length < 32)
    throw new Error(`subgraph ${definition.name} needs a request-signing secret of at least 32 characters`);
  const nonces = new NonceCache();
  const server = createGraphQLHttpServer<RequestContext, Principal>({
    apollo,
    log: subgraphLog,
    // Only the gateway calls subgraphs, always with POST: a GET's query string would not be signed.
    methods: ['POST'],
    tracing: { service: definition.name, subgraph: definition.name, continueTrace: true },
    routes: metrics.routes,
    // Not ready while the storage refuses writes (disk full, read-only) or the database does not answer.
    ready: async () =>
      storageReady() &&
      sql`select 1`.execute(db).then(
        () => true,
        () => false,
      ),
    admit: async (req, body) => {
      const verdict = verifyRequest(
        options.secret,
        { method: req.method ?? 'POST', body, headers: req.headers },
        nonces,
      );
      if (verdict.ok) return { ok: true, value: verdict.identity };
      subgraphLog.warn(
        { reason: verdict.reason, remote: req.socket.remoteAddress },
        'refused a request without a valid gateway signature',
      );
      return {
        ok: false,
        status: 401,
        code: 'UNAUTHENTICATED',
        message: 'this subgraph only answers requests signed by the gateway',
      };
    },
    context: async (req, principal, requestId) => {
      const correlationId = correlationIdOf(req.headers);
      return definition.createContext({
        caller: principal.sub,
        principal,
        correlationId,
        requestId,
        log: subgraphLog.child({ correlationId, requestId, principal: principal.sub, ...traceLogFields() }),
      });
    },
  });
  const retention = options.retention
    ? startRetentionJob({
        db,
        schemas: [definition.name],
        bus: options.retention.bus,
        policy: options.retention.policy,
        intervalMs: options.retention.intervalMs,
        log: subgraphLog,
      })
    : undefined;
  const address = await listen(server, options.port, options.host);
  subgraphLog.info({ url: address.url }, 'subgraph listening');
  return {
    name: definition.name,
    url: address.url,
    port: address.port,
    server,
    relay,
    metrics,
    ...(retention ? { retention } : {}),
    stop: async () => {
      await retention?.stop();
      await closeServer(server);
      await Promise.all(subscriptions.map((s) => s.stop()));
      await relay.stop();
      stopNotifications();
      await apollo.stop();
      await definition.close?.();
      stopCounting();
    },
  };
}
