export { buildGateway, type BuiltGateway, type BuildGatewayOptions } from './gateway.ts';
export { EntityCache, type AppliedEvent } from './cache/entity-cache.ts';
export { MemoryCacheStore, type CacheStore } from './cache/store.ts';
export { createAuthenticator, type AuthConfig } from './auth.ts';
export { RedisCacheStore, type RedisCacheStoreOptions } from './cache/redis-store.ts';
export { listenForInvalidations } from './cache/invalidation.ts';
export { sanitizeGatewayError, SYSTEM_OF } from './errors.ts';
export { supergraphRoutingUrls, withoutSecurityPurpose } from './supergraph.ts';
export {
  gatewayConfigFromEnv,
  gatewayVariables,
  subgraphNamesOf,
  subgraphVariables,
  type GatewayConfig,
} from './config.ts';
export type { GatewayContext } from './context.ts';
export type { GatewayExtension } from './extension.ts';
export { explorerExtension, EXPLORER_HEADERS } from './explorer.ts';
export { buildManifest, type PersistedQueryManifest, type SafelistMode } from './safelist.ts';
