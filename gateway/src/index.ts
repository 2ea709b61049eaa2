export { buildGateway, sanitizeGatewayError, supergraphRoutingUrls, type BuiltGateway } from './gateway.ts';
export { gatewayConfigFromEnv, type GatewayConfig } from './config.ts';
