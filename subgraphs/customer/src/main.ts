import { runSubgraphProcess } from '@c2c/platform';
import { buildCustomerSubgraph } from './subgraph.ts';

await runSubgraphProcess('customer', buildCustomerSubgraph);
