import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { subgraphsOf } from '@c2c/schema/subgraphs';

// Benchmarks a subgraph contributes: by convention its package's `bench/index.ts` exports
// `benchmarks` (section name → run). Nothing names a subgraph here.

export interface ContributedResult {
  lines: string[];
  json: Record<string, unknown>;
  targets: { target: string; measured: number | null; goal: number; atLeast: boolean }[];
}

interface ContributedBenchmark {
  summary: string;
  run(options: {
    quick: boolean;
    env: Readonly<Record<string, string | undefined>>;
    log: (line: string) => void;
  }): Promise<ContributedResult>;
}

/** Runs the contributed benchmarks named in `sections`, in rover.yaml's order. */
export async function runContributed(
  sections: readonly string[],
  options: Parameters<ContributedBenchmark['run']>[0],
): Promise<Record<string, ContributedResult>> {
  const results: Record<string, ContributedResult> = {};
  if (sections.length === 0) return results;
  for (const info of subgraphsOf()) {
    const file = join(info.dir, 'bench', 'index.ts');
    if (!existsSync(file)) continue;
    const { benchmarks } = (await import(pathToFileURL(file).href)) as {
      benchmarks?: Record<string, ContributedBenchmark>;
    };
    for (const [name, benchmark] of Object.entries(benchmarks ?? {})) {
      if (!sections.includes(name)) continue;
      options.log(`${name}: ${benchmark.summary}`);
      results[name] = await benchmark.run(options);
    }
  }
  return results;
}
