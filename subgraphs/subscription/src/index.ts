export { buildSubscriptionSubgraph, subscriptionTypeDefs } from './subgraph.ts';
