export { buildGateway, type BuiltGateway } from './gateway.ts';
export { createAuthenticator, type AuthConfig } from './auth.ts';
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
