export { buildCustomerSubgraph, customerTypeDefs } from './subgraph.ts';
export { buildCustomerSubgraph as buildSubgraph } from './subgraph.ts';
