import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startStack } from '@c2c/apps/stack';
import type { GatewayConfig } from '@c2c/gateway/config';
import { silentLogger } from '@c2c/platform/core';
import type { Database } from '@c2c/platform/db';
import { subgraphsOf } from '@c2c/schema/subgraphs';

// Benchmarks a subgraph contributes: by convention its package's `bench/index.ts` exports
// `benchmarks` (section name → run). Nothing names a subgraph here.

export interface ContributedResult {
  lines: string[];
  json: Record<string, unknown>;
  targets: { target: string; measured: number | null; goal: number; atLeast: boolean }[];
}

/** What a contributed benchmark gets: the run's options and a way to start the one-process stack. */
export interface ContributedOptions {
  quick: boolean;
  env: Readonly<Record<string, string | undefined>>;
  log: (line: string) => void;
  databaseUrl: string | null;
  startStack: (options: {
    database: Database;
    clock: { now(): Date };
    gateway: Partial<GatewayConfig>;
  }) => Promise<{ gatewayUrl: string; token(role: string): Promise<string>; stop(): Promise<void> }>;
}

interface ContributedBenchmark {
  summary: string;
  run(options: ContributedOptions): Promise<ContributedResult>;
}

/** The one-process stack as contributed benchmarks start it: given database and clock, free ports, no logs. */
export const startBenchStack: ContributedOptions['startStack'] = async ({ database, clock, gateway }) => {
  const stack = await startStack({
    dataDir: null,
    database,
    ports: { gateway: 0 },
    log: silentLogger(),
    clock,
    gateway,
  });
  return {
    gatewayUrl: stack.gatewayUrl,
    // A role by name; the stack's issuer refuses one it does not know.
    token: (role) => stack.token(role as Parameters<typeof stack.token>[0]),
    stop: () => stack.stop(),
  };
};

/** Runs the contributed benchmarks named in `sections`, in rover.yaml's order. */
export async function runContributed(
  sections: readonly string[],
  options: ContributedOptions,
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
