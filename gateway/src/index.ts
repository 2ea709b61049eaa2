export { buildGateway, sanitizeGatewayError, supergraphRoutingUrls, type BuiltGateway } from './gateway.ts';
export {
  gatewayConfigFromEnv,
  gatewayVariables,
  subgraphNamesOf,
  subgraphVariables,
  type GatewayConfig,
} from './config.ts';
