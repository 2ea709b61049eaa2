export { buildFinanceSubgraph, financeTypeDefs } from './subgraph.ts';
export { buildFinanceSubgraph as buildSubgraph } from './subgraph.ts';
