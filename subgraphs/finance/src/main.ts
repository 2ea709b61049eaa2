import { runSubgraphProcess } from '@c2c/platform';
import { buildFinanceSubgraph } from './subgraph.ts';

await runSubgraphProcess('finance', buildFinanceSubgraph);
