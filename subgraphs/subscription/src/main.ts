import { runSubgraphProcess } from '@c2c/platform';
import { buildSubscriptionSubgraph } from './subgraph.ts';

await runSubgraphProcess('subscription', buildSubscriptionSubgraph);
