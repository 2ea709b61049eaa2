export { buildFinanceSubgraph, financeTypeDefs } from './subgraph.ts';
