export { buildSubscriptionSubgraph, subscriptionTypeDefs } from './subgraph.ts';
export { buildSubscriptionSubgraph as buildSubgraph } from './subgraph.ts';
