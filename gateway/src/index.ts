export { buildGateway, sanitizeGatewayError, supergraphRoutingUrls, type BuiltGateway } from './gateway.ts';
export { gatewayConfigFromEnv, SUBGRAPH_NAMES, type GatewayConfig } from './config.ts';
