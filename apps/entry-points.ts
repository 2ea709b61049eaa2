import { join } from 'node:path';
import { subgraphsOf, type SubgraphInfo } from '@c2c/schema/subgraphs';

/** The gateway, one entry per subgraph (its `src/main.ts`), and the operator CLI. */
export function entryPointsFor(subgraphs: readonly SubgraphInfo[]): Record<string, string> {
  return {
    gateway: 'apps/gateway/main.ts',
    ...Object.fromEntries(subgraphs.map((s) => [s.name, join(s.dir, 'src', 'main.ts')])),
    /** The operator CLI (`db setup`, `reconcile`, `dead-letters`, `replay`, …) for jobs and shells. */
    c2c: 'cli/c2c.ts',
  };
}

/** The entry points of rover.yaml's subgraphs. */
export const ENTRY_POINTS = entryPointsFor(subgraphsOf());
