import { runSubgraphProcess } from '@c2c/platform/subgraph';
import { buildFinanceSubgraph } from './subgraph.ts';

await runSubgraphProcess('finance', buildFinanceSubgraph);
