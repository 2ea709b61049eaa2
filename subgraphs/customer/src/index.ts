export { buildCustomerSubgraph, customerTypeDefs } from './subgraph.ts';
