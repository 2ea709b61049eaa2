import { Agent } from 'node:http';
import { readFileSync } from 'node:fs';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import fetch from 'node-fetch';
import { createRequire } from 'node:module';
import type * as GraphQLModule from 'graphql';
import type { GraphQLFormattedError } from 'graphql';
import {
  accessPolicyFromSdl,
  chainRoutes,
  correlationIdOf,
  CORRELATION_HEADER,
  countJsonValues,
  createGraphQLHttpServer,
  devIssuer,
  DEV_TOKEN_HINT,
  graphqlTracingPlugin,
  requestIdPlugin,
  scalarResolvers,
  storableTextPlugin,
  traceLogFields,
  withoutSuggestions,
  type AccessPolicy,
  type Logger,
  type Principal,
} from '@c2c/platform';
import type { Server } from 'node:http';
import { createAuthenticator, wwwAuthenticate, type AuthConfig } from './auth.ts';
import type { GatewayConfig } from './config.ts';
import {
  createGatewayMetrics,
  reconciliationMetrics,
  type GatewayMetrics,
  type ReconciliationMetrics,
} from './metrics.ts';
import type { GatewayContext } from './context.ts';
import { opsConsoleRoute } from './ops-console/serve.ts';
import { analyzeOperation, invalidVariables } from './policy.ts';
import { CostRateLimiter } from './rate-limit.ts';
import { buildManifest, safelistPlugin } from './safelist.ts';
import { createSubgraphFetcher, PRINCIPAL_HANDOFF, type SubgraphFetcher } from './subgraph-fetcher.ts';
import { systemLabels } from '@c2c/schema/subgraphs';

// Errors thrown to Apollo must be its own graphql instance's GraphQLError (the CommonJS build), or
// Apollo re-wraps them and drops their `path`.
const { GraphQLError, Lexer, Source } = createRequire(import.meta.url)('graphql') as typeof GraphQLModule;

/**
 * graphql-armor's token limit runs inside Apollo's parsing hook, where a rejection becomes a 500;
 * the same limit is applied here, before Apollo, so an oversized document is a 400.
 */
export function tooManyTokens(query: unknown, max: number): boolean {
  if (typeof query !== 'string') return false;
  const lexer = new Lexer(new Source(query));
  try {
    for (let count = 0; lexer.advance().kind !== '<EOF>';) if (++count > max) return true;
  } catch {
    // A syntax error: Apollo's parser reports it.
  }
  return false;
}

/**
 * The answer to a query over graphql-armor's cost limit: that it is too expensive, its cost, the
 * limit, and how to ask for less. Reads the numbers from armor's own message.
 */
export function tooExpensive(armorMessage: string): string {
  const numbers = /limit of (\d+) exceeded, found (\d+)/.exec(armorMessage);
  const measured = numbers ? `: its estimated cost is ${numbers[2]} and the limit is ${numbers[1]}` : '';
  return `the query is too expensive${measured}. Ask for less: a smaller first (page size, e.g. first: 20), fewer nested lists, or fewer fields`;
}

export type { GatewayContext } from './context.ts';

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
  /** The timer behind `c2c_reconciliation_*` (`runOnce` for an immediate run). */
  reconciliation: ReconciliationMetrics;
}

/** The business system behind each subgraph, named in errors so support knows which part failed. */
export const SYSTEM_OF: Record<string, string> = systemLabels();

/** Limits of graphql-armor, chosen for the registered operations (docs/security.md says why). */
export const ARMOR_LIMITS = {
  maxDepth: 6,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 1000,
  maxCost: 5000,
} as const;
/** Largest estimated cost (page sizes multiplied in) of one operation. */
export const MAX_OPERATION_COST = 50_000;

const URL_IN_TEXT = /\b(?:https?:\/\/|\d{1,3}(?:\.\d{1,3}){3}:\d+)\S*/;
/** Extension keys a client may see; everything else (response bodies, URLs, stack traces) is dropped. */
const PUBLIC_EXTENSIONS = new Set([
  'code',
  'serviceName',
  'system',
  'field',
  'requestId',
  'requires',
  'retryAfterSeconds',
]);
const TRANSPORT_FAILURE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket hang up|subgraph \w+ (failed|circuit)|^\d{3}: /i;

/**
 * Keeps subgraph failures explainable without leaking internals: no URLs, addresses, response
 * bodies or stack traces reach the client; the subgraph's name, its system and a stable code do.
 */
export function sanitizeGatewayError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const given = (formatted.extensions ?? {}) as Record<string, unknown>;
  const extensions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) if (PUBLIC_EXTENSIONS.has(key)) extensions[key] = value;
  const named = /subgraph (\w+) (?:failed|circuit)/.exec(formatted.message)?.[1];
  const serviceName = typeof given.serviceName === 'string' ? given.serviceName : (named ?? null);
  if (serviceName) extensions.serviceName = serviceName;
  if (serviceName && SYSTEM_OF[serviceName]) extensions.system = SYSTEM_OF[serviceName];
  let message = formatted.message;
  const status = (given.response as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // A subgraph refused what the gateway sent: a bad value the gateway did not catch, not an outage.
    return {
      ...formatted,
      message: 'a system refused the request as invalid',
      extensions: { ...extensions, code: status === 401 || status === 403 ? 'FORBIDDEN' : 'BAD_USER_INPUT' },
    };
  }
  const fromSubgraphHttp = given.response !== undefined;
  if (URL_IN_TEXT.test(message) || TRANSPORT_FAILURE.test(message) || fromSubgraphHttp) {
    const system = serviceName ? SYSTEM_OF[serviceName] : undefined;
    message = serviceName
      ? `the ${system ?? serviceName} system (subgraph ${serviceName}) is unavailable`
      : 'a subgraph is unavailable';
    extensions.code = 'SUBGRAPH_UNAVAILABLE';
  }
  return { ...formatted, message, extensions };
}

/** Reads the subgraph names and routing URLs composed into a supergraph. */
export function supergraphRoutingUrls(supergraphSdl: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const match of supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g)) {
    urls[match[1] as string] = match[2] as string;
  }
  return urls;
}

/**
 * `@apollo/gateway` refuses supergraphs that link features `for: SECURITY` it does not implement
 * (`@authenticated`, `@requiresScopes`): it cannot enforce them. This gateway does, before planning
 * (see authorizationPlugin), so it hands Apollo's planner the supergraph with that purpose removed.
 */
export function withoutSecurityPurpose(supergraphSdl: string): string {
  return supergraphSdl.replace(
    /(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes)\/v[0-9.]+"), for: SECURITY\)/g,
    '$1)',
  );
}

/**
 * Before any query plan or subgraph fetch: authorization from the supergraph's directives (an
 * unauthorized field is never fetched: the whole operation is refused with FORBIDDEN and the
 * field's path), page and list sizes, an operation cost ceiling, and the principal's cost budget.
 */
export function authorizationPlugin(
  policy: AccessPolicy,
  limiter: CostRateLimiter,
  log: Logger,
): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          if (!operation) return;
          const declared = new Set(operation.variableDefinitions?.map((d) => d.variable.name.value));
          const undeclared = Object.keys(request.variables ?? {}).find((name) => !declared.has(name));
          if (undeclared !== undefined) {
            throw new GraphQLError(
              `variable $${undeclared.slice(0, 64)} is not declared by the operation: send only its variables`,
              { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } },
            );
          }
          const badValue = invalidVariables(schema, operation, request.variables ?? {}, scalarResolvers)[0];
          if (badValue) {
            throw new GraphQLError(badValue.message, {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
          const analysis = analyzeOperation(
            schema,
            policy,
            document,
            operation,
            request.variables ?? {},
            contextValue.principal,
          );
          const first = analysis.forbidden[0];
          if (first) {
            contextValue.log.warn(
              {
                principal: contextValue.principal.sub,
                role: contextValue.principal.role,
                operationName: request.operationName,
                forbidden: analysis.forbidden.map((f) => f.coordinate),
              },
              'operation refused: not authorized',
            );
            const scope = first.requires.split(' or ')[0]?.split(' and ').join(' ');
            const headers = new Map([
              [
                'www-authenticate',
                wwwAuthenticate({
                  kind: 'insufficient_scope',
                  message: first.message,
                  ...(scope && scope !== 'authentication' ? { scope } : {}),
                }),
              ],
            ]);
            throw new GraphQLError(first.message, {
              path: first.path,
              extensions: { code: 'FORBIDDEN', requires: first.requires, http: { status: 403, headers } },
            });
          }
          const invalid = analysis.invalid[0];
          if (invalid) {
            throw new GraphQLError(invalid.message, {
              ...(invalid.path.length ? { path: invalid.path } : {}),
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
          if (analysis.cost > MAX_OPERATION_COST) {
            throw new GraphQLError(
              `the query is too expensive: its estimated cost is ${analysis.cost} and the limit is ${MAX_OPERATION_COST} (page sizes multiplied out). Ask for less: a smaller first (page size), or fewer nested lists`,
              { extensions: { code: 'COST_LIMIT_EXCEEDED', http: { status: 400 } } },
            );
          }
          // The variables are work too (coercion, signing, forwarding): a cost point per 100 values.
          const variablesCost = Math.ceil(countJsonValues(request.variables ?? {}) / 100);
          const decision = limiter.take(contextValue.principal.sub, analysis.cost + variablesCost);
          if (!decision.ok) {
            log.warn(
              {
                principal: contextValue.principal.sub,
                cost: analysis.cost,
                retryAfter: decision.retryAfterSeconds,
              },
              'rate limited',
            );
            const headers = new Map([['retry-after', String(decision.retryAfterSeconds)]]);
            throw new GraphQLError('rate limit exceeded: too much query cost in too little time', {
              extensions: {
                code: 'RATE_LIMITED',
                retryAfterSeconds: decision.retryAfterSeconds,
                http: { status: 429, headers },
              },
            });
          }
        },
      };
    },
  };
}

/** Builds the gateway (no listening): Apollo Gateway over the static supergraph, hardened. */
export async function buildGateway(config: GatewayConfig, log: Logger): Promise<BuiltGateway> {
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
  const reconciliation = reconciliationMetrics({
    metrics,
    intervalSeconds: config.reconcileIntervalSeconds ?? 0,
    manifest,
    safelistMode: config.safelistMode,
    log: gatewayLog,
  });

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
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource<GatewayContext>({
        url: subgraphUrls[name] ?? url,
        fetcher: (fetchers[name] && metrics.instrumentFetch(name, fetchers[name].fetch)) as never,
        // Nothing from the client's request is forwarded: identity travels only signed.
        willSendRequest: ({ request, context }) => {
          request.http?.headers.set(CORRELATION_HEADER, context.correlationId);
          request.http?.headers.set(
            PRINCIPAL_HANDOFF,
            Buffer.from(JSON.stringify(context.principal), 'utf8').toString('base64url'),
          );
        },
      }),
  });

  const onDevIssuer = !config.auth.jwks && !config.auth.jwksUrl;
  const jwks = config.auth.jwks ?? (onDevIssuer ? (await devIssuer(config.dataDir)).jwks : undefined);
  const authenticate = createAuthenticator({
    ...(onDevIssuer ? { tokenHint: DEV_TOKEN_HINT } : {}),
    ...config.auth,
    ...(jwks ? { jwks } : {}),
  } as AuthConfig);
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
      onReject: [(context, error) => context?.reportError(new GraphQLError(tooExpensive(error.message)))],
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
      reconciliation.plugin,
      ApolloServerPluginLandingPageDisabled(),
      ...(armor.plugins as ApolloServerPlugin<GatewayContext>[]),
      safelistPlugin(manifest, config.safelistMode, gatewayLog),
      storableTextPlugin<GatewayContext>(),
      authorizationPlugin(policy, new CostRateLimiter(config.rateLimit), gatewayLog),
      requestIdPlugin<GatewayContext>(),
      graphqlTracingPlugin<GatewayContext>(),
    ],
  });
  await apollo.start();
  reconciliation.start(apollo);

  const server = createGraphQLHttpServer<GatewayContext, Principal>({
    apollo,
    log: gatewayLog,
    maxBodyBytes: config.maxBodyBytes,
    refuseUnstorableText: true,
    corsOrigins: config.corsOrigins,
    // The edge: every request starts a trace; a client's traceparent is not trusted.
    tracing: { service: 'gateway', continueTrace: false },
    // The ops console: static page and assets; its data comes from /graphql like any client's.
    routes: chainRoutes(metrics.routes, opsConsoleRoute({ operationsDir: config.operationsDir })),
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
  return { apollo, server, subgraphUrls, fetchers, agent, metrics, reconciliation };
}
