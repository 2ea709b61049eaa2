import { createLogger } from '@c2c/platform/core';
import { closeServer, listen } from '@c2c/platform/graphql';
import { setupTracing } from '@c2c/platform/observability';
import {
  buildGateway,
  explorerExtension,
  gatewayConfigFromEnv,
  listenForInvalidations,
  subgraphVariables,
} from '@c2c/gateway';
import { subgraphsOf } from '@c2c/schema/subgraphs';
import { opsExtension } from '@c2c/ops';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  const [first] = subgraphsOf();
  const example = subgraphVariables(first?.name ?? 'name');
  console.log(`Usage: node gateway main

The gateway on its own, configured only by environment (README.md "Configuration", docs/security.md):
  PORT, HOST, SUPERGRAPH_PATH, and for each subgraph composed into the supergraph <NAME>_URL
  (optional: overrides its routing URL) and <NAME>_SUBGRAPH_SECRET (required), e.g. ${example.url},
  ${example.secret},
  NODE_ENV=production (then AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URL are required),
  AUTH_ALGORITHMS, AUTH_CLOCK_TOLERANCE_S, AUTH_TOKEN_CACHE_SIZE, DATA_DIR (dev issuer key),
  SAFELIST_MODE, OPERATIONS_DIR,
  SUBGRAPH_TIMEOUT_MS, SUBGRAPH_MUTATION_TIMEOUT_MS, CORS_ORIGINS, MAX_BODY_BYTES,
  RATE_LIMIT_COST_PER_MINUTE, RATE_LIMIT_BURST, LOG_LEVEL;
  the entity cache (docs/cache.md): ENTITY_CACHE (on), ENTITY_CACHE_MAX_BYTES, ENTITY_CACHE_MAX_AGE_S,
  NATS_URL and NATS_STREAM_PREFIX (where the subgraphs announce applied events: without NATS_URL the
  cache stays off), ENTITY_CACHE_REDIS_URL and ENTITY_CACHE_REDIS_PREFIX (a store shared by the
  replicas; without it each replica keeps its own in memory).`);
  process.exit(0);
}

let config: ReturnType<typeof gatewayConfigFromEnv>;
try {
  config = gatewayConfigFromEnv(process.env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const log = createLogger({ name: 'gateway', level: config.logLevel });
const tracing = setupTracing({ serviceName: 'gateway', env: process.env });
const natsUrl = config.entityCache.natsUrl;
const gateway = await buildGateway(
  config,
  log,
  [
    opsExtension({
      operationsDir: config.operationsDir,
      safelistMode: config.safelistMode,
      ...(config.reconcileIntervalSeconds !== undefined
        ? { reconcileIntervalSeconds: config.reconcileIntervalSeconds }
        : {}),
      log,
    }),
    // The GraphiQL explorer at /graphiql: development only.
    ...(config.production ? [] : [explorerExtension()]),
  ],
  // The subgraphs announce on NATS what they applied: the entity cache is on only with it.
  { deliversEvents: Boolean(natsUrl) },
);
const invalidations =
  gateway.cache && natsUrl
    ? await listenForInvalidations(gateway.cache, { ...config.entityCache, natsUrl }, log)
    : null;
const { url } = await listen(gateway.server, config.port, config.host);
log.info({ url, subgraphs: gateway.subgraphUrls }, 'gateway listening');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    log.info({ signal }, 'gateway stopping');
    await closeServer(gateway.server);
    await gateway.apollo.stop();
    gateway.agent.destroy();
    await invalidations?.close();
    await gateway.cache?.close();
    await tracing.shutdown();
    process.exit(0);
  });
}
