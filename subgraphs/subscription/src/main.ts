import { runSubgraphProcess } from '@c2c/platform/subgraph';
import { buildSubscriptionSubgraph } from './subgraph.ts';

await runSubgraphProcess('subscription', buildSubscriptionSubgraph);
