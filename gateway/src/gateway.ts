import { Agent } from 'node:http';
import { readFileSync } from 'node:fs';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import fetch from 'node-fetch';
import { accessPolicyFromSdl, DEV_TOKEN_HINT, devIssuer, type Principal } from '@c2c/platform/auth';
import { chainRoutes, type Logger } from '@c2c/platform/core';
import {
  correlationIdOf,
  createGraphQLHttpServer,
  requestIdPlugin,
  storableTextPlugin,
  withoutSuggestions,
} from '@c2c/platform/graphql';
import { graphqlTracingPlugin, traceLogFields } from '@c2c/platform/observability';
import type { Server } from 'node:http';
import { createAuthenticator, wwwAuthenticate, type AuthConfig } from './auth.ts';
import type { GatewayConfig } from './config.ts';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
import type { GatewayContext } from './context.ts';
import type { GatewayExtension } from './extension.ts';
import { SignedDataSource } from './data-source.ts';
import { EntityCache } from './cache/entity-cache.ts';
import { cachePolicyFromSdl } from './cache/policy.ts';
import { MemoryCacheStore, type CacheStore } from './cache/store.ts';
import { RedisCacheStore } from './cache/redis-store.ts';
import { sanitizeGatewayError } from './errors.ts';
import { ARMOR_LIMITS, costLimitError, tooManyTokens } from './limits.ts';
import { pageLimitsFromSdl } from './page-limits.ts';
import { authorizationPlugin } from './plugins/authorization.ts';
import { CostRateLimiter } from './rate-limit.ts';
import { buildManifest, safelistPlugin } from './safelist.ts';
import { createSubgraphFetcher, type SubgraphFetcher } from './subgraph-fetcher.ts';
import { supergraphRoutingUrls, withoutSecurityPurpose } from './supergraph.ts';

export interface BuiltGateway {
  apollo: ApolloServer<GatewayContext>;
  server: Server;
  /** Subgraph name → the URL requests are sent to. */
  subgraphUrls: Record<string, string>;
  /** Subgraph name → its client (signing, timeouts, retries, circuit breaker). */
  fetchers: Record<string, SubgraphFetcher>;
  agent: Agent;
  /** The gateway's registry, served on GET /metrics. */
  metrics: GatewayMetrics;
  /**
   * The entity cache, when on: the composition root hands it every applied event
   * (`cache.applied(events)`), or it would serve what they changed until their max age.
   */
  cache: EntityCache | null;
}

export interface BuildGatewayOptions {
  /**
   * The composition root hands the entity cache every event the subgraphs applied or published
   * (`cache.applied`): in process (the embedded stack), or from NATS (`listenForInvalidations`, a
   * gateway process given NATS_URL). Without it the cache stays off whatever the setting says:
   * nothing would evict what the events change (docs/cache.md).
   */
  deliversEvents?: boolean;
  /**
   * Where the entity cache keeps entries (default: Redis when `entityCache.redisUrl` is set, else in
   * process, bounded by `entityCache.maxBytes`).
   */
  cacheStore?: CacheStore;
}

/** Builds the gateway (no listening): Apollo Gateway over the static supergraph, hardened. */
export async function buildGateway(
  config: GatewayConfig,
  log: Logger,
  extensions: GatewayExtension[] = [],
  options: BuildGatewayOptions = {},
): Promise<BuiltGateway> {
  const supergraphSdl = readFileSync(config.supergraphPath, 'utf8');
  const policy = accessPolicyFromSdl(supergraphSdl);
  const subgraphUrls = { ...supergraphRoutingUrls(supergraphSdl), ...config.subgraphUrls };
  const agent = new Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 30_000 });
  const gatewayLog = log.child({ component: 'gateway' });

  const fetchers: Record<string, SubgraphFetcher> = {};
  for (const name of Object.keys(subgraphUrls)) {
    const secret = config.subgraphSecrets[name];
    if (!secret) throw new Error(`no request-signing secret for subgraph ${name}`);
    fetchers[name] = createSubgraphFetcher({
      name,
      secret,
      agent,
      queryTimeoutMs: config.subgraphTimeoutMs,
      mutationTimeoutMs: config.subgraphMutationTimeoutMs,
      log: gatewayLog,
    });
  }

  const manifest = buildManifest(config.operationsDir);
  const metrics = createGatewayMetrics({
    log: gatewayLog,
    manifest,
    fetchers,
    ...(config.metricsToken ? { token: config.metricsToken } : {}),
  });

  let cache: EntityCache | null = null;
  if (config.entityCache.enabled && !options.deliversEvents)
    gatewayLog.info(
      'entity cache off: no event reaches this gateway to evict what it would keep (set NATS_URL: docs/cache.md)',
    );
  if (config.entityCache.enabled && options.deliversEvents) {
    const events = {
      evicted: (reason: 'capacity' | 'expired', n: number) => cache?.evicted(reason, n),
      failed: (operation: string, error: unknown) => cache?.failed(operation, error),
    };
    const store =
      options.cacheStore ??
      (config.entityCache.redisUrl
        ? await RedisCacheStore.connect({
            url: config.entityCache.redisUrl,
            ...(config.entityCache.redisPrefix ? { prefix: config.entityCache.redisPrefix } : {}),
            events,
          })
        : new MemoryCacheStore(config.entityCache.maxBytes, events));
    cache = new EntityCache({
      policy: cachePolicyFromSdl(supergraphSdl),
      store,
      log: gatewayLog,
      registry: metrics.registry,
      maxAgeCeilingS: config.entityCache.maxAgeSeconds,
    });
  }

  const gateway = new ApolloGateway({
    supergraphSdl: withoutSecurityPurpose(supergraphSdl),
    // Our plan store counts its hits and misses (c2c_query_plan_cache_lookups_total).
    queryPlannerConfig: { cache: metrics.queryPlanCache },
    logger: {
      debug: (m) => gatewayLog.debug(m),
      info: (m) => gatewayLog.info(m),
      warn: (m) => gatewayLog.warn(m),
      error: (m) => gatewayLog.error(m),
    },
    buildService: ({ name, url }) => {
      const fetcher = fetchers[name];
      const target = subgraphUrls[name] ?? url;
      if (!fetcher || !target) throw new Error(`internal: no client or URL for subgraph ${name}`);
      return new SignedDataSource(
        target,
        metrics.instrumentFetch(name, fetcher.send),
        cache ? { cache, subgraph: name } : undefined,
      );
    },
  });

  const onDevIssuer = !config.auth.jwks && !config.auth.jwksUrl;
  const jwks = config.auth.jwks ?? (onDevIssuer ? (await devIssuer(config.dataDir)).jwks : undefined);
  const authenticate = createAuthenticator(
    {
      ...(onDevIssuer ? { tokenHint: DEV_TOKEN_HINT } : {}),
      ...config.auth,
      ...(jwks ? { jwks } : {}),
    } as AuthConfig,
    { onCacheLookup: metrics.tokenCacheLookup },
  );
  const armor = new ApolloArmor({
    maxDepth: { n: ARMOR_LIMITS.maxDepth, flattenFragments: true },
    maxAliases: { n: ARMOR_LIMITS.maxAliases },
    maxDirectives: { n: ARMOR_LIMITS.maxDirectives },
    // Applied before Apollo instead (tooManyTokens), where a refusal can be a 400.
    maxTokens: { enabled: false },
    // Reported in our words (armor's own says "Syntax Error: Query Cost limit …").
    costLimit: {
      maxCost: ARMOR_LIMITS.maxCost,
      propagateOnRejection: false,
      onReject: [(context, error) => context?.reportError(costLimitError(error.message))],
    },
    blockFieldSuggestion: { enabled: true },
  }).protect();

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    // Shutdown is ours (entry points handle SIGTERM/SIGINT); Apollo's own handler would re-raise the signal.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    introspection: !config.production,
    hideSchemaDetailsFromClientErrors: true,
    csrfPrevention: true,
    validationRules: armor.validationRules,
    formatError: (formatted) => {
      const clean = sanitizeGatewayError({ ...formatted, message: withoutSuggestions(formatted.message) });
      if (clean.message !== formatted.message) {
        gatewayLog.warn({ error: formatted.message, path: formatted.path }, 'subgraph request failed');
      }
      return clean;
    },
    plugins: [
      metrics.plugin<GatewayContext>(),
      ApolloServerPluginLandingPageDisabled(),
      ...(armor.plugins as ApolloServerPlugin<GatewayContext>[]),
      safelistPlugin(manifest, config.safelistMode, gatewayLog),
      storableTextPlugin<GatewayContext>(),
      authorizationPlugin(
        policy,
        pageLimitsFromSdl(supergraphSdl),
        new CostRateLimiter(config.rateLimit),
        gatewayLog,
      ),
      requestIdPlugin<GatewayContext>(),
      graphqlTracingPlugin<GatewayContext>(),
      ...extensions.flatMap((extension) => extension.plugins ?? []),
      {
        async serverWillStart() {
          return {
            async serverWillStop() {
              for (const extension of extensions) await extension.stopping?.();
            },
          };
        },
      },
    ],
  });
  await apollo.start();
  for (const extension of extensions) extension.started?.({ apollo, metrics });

  const server = createGraphQLHttpServer<GatewayContext, Principal>({
    apollo,
    log: gatewayLog,
    maxBodyBytes: config.maxBodyBytes,
    refuseUnstorableText: true,
    corsOrigins: config.corsOrigins,
    // The edge: every request starts a trace; a client's traceparent is not trusted.
    tracing: { service: 'gateway', continueTrace: false },
    // /metrics, then the extensions' routes (the ops console's pages, mounted by the composition root).
    routes: chainRoutes(metrics.routes, ...extensions.flatMap((extension) => extension.routes ?? [])),
    inspect: ({ query }) =>
      tooManyTokens(query, ARMOR_LIMITS.maxTokens)
        ? {
            status: 400,
            code: 'GRAPHQL_VALIDATION_FAILED',
            message: `Syntax Error: Token limit of ${ARMOR_LIMITS.maxTokens} exceeded.`,
          }
        : null,
    admit: async (req) => {
      const result = await authenticate(req.headers.authorization);
      if (result.ok) return { ok: true, value: result.principal };
      gatewayLog.info({ reason: result.reason, remote: req.socket.remoteAddress }, 'unauthenticated request');
      return {
        ok: false,
        status: 401,
        code: 'UNAUTHENTICATED',
        message: result.message,
        headers: { 'www-authenticate': wwwAuthenticate(result) },
      };
    },
    context: async (req, principal, requestId) => {
      const correlationId = correlationIdOf(req.headers);
      return {
        principal,
        caller: principal.sub,
        correlationId,
        requestId,
        log: gatewayLog.child({ requestId, correlationId, principal: principal.sub, ...traceLogFields() }),
      };
    },
    ready: async () => {
      for (const extension of extensions) {
        const waiting = extension.readiness?.();
        if (waiting) return { ready: false, body: waiting };
      }
      const answers = await Promise.all(
        Object.values(subgraphUrls).map(async (url) => {
          try {
            const response = await fetch(url.replace(/\/graphql$/, '/readyz'), { agent, timeout: 2000 });
            return response.ok;
          } catch {
            return false;
          }
        }),
      );
      return answers.every(Boolean);
    },
  });
  return { apollo, server, subgraphUrls, fetchers, agent, metrics, cache };
}
