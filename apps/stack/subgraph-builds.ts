import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StartSubgraphOptions } from '@c2c/platform/subgraph';
import { subgraphsOf, type SubgraphInfo } from '@c2c/schema/subgraphs';

export type SubgraphBuild = StartSubgraphOptions['build'];

/**
 * Each subgraph of rover.yaml with its builder: by convention its package's `src/index.ts`
 * (next to its schema file) exports `buildSubgraph`. Nothing names a subgraph here, so a subgraph
 * added to rover.yaml is started by the one-process stack and the bench without other edits.
 */
export async function loadSubgraphBuilds(
  subgraphs: readonly SubgraphInfo[] = subgraphsOf(),
): Promise<{ info: SubgraphInfo; build: SubgraphBuild }[]> {
  return Promise.all(
    subgraphs.map(async (info) => {
      const entry = join(info.dir, 'src', 'index.ts');
      const module = (await import(pathToFileURL(entry).href)) as { buildSubgraph?: SubgraphBuild };
      if (typeof module.buildSubgraph !== 'function')
        throw new Error(`subgraph ${info.name}: ${entry} must export buildSubgraph(deps)`);
      return { info, build: module.buildSubgraph };
    }),
  );
}
