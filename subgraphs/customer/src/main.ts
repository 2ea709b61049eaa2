import { runSubgraphProcess } from '@c2c/platform/subgraph';
import { buildCustomerSubgraph } from './subgraph.ts';

await runSubgraphProcess('customer', buildCustomerSubgraph);
