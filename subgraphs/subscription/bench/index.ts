import { runUsageBench, type StartBenchStack } from './usage.ts';

// The benchmarks this subgraph adds to `npm run bench` (found by convention: bench/index.ts).

export interface ContributedBenchmark {
  summary: string;
  run(options: {
    quick: boolean;
    env: Readonly<Record<string, string | undefined>>;
    log: (line: string) => void;
    databaseUrl: string | null;
    startStack: StartBenchStack;
  }): Promise<{
    lines: string[];
    json: Record<string, unknown>;
    targets: { target: string; measured: number | null; goal: number; atLeast: boolean }[];
  }>;
}

export const benchmarks: Record<string, ContributedBenchmark> = {
  usage: {
    summary:
      'usage.RecordUsage through the gateway in batches of 1,000, and over the backbone (NATS_URL), vs. the INSERT floor; rating a period; the billing run with usage lines',
    async run({ quick, env, log, databaseUrl, startStack }) {
      const usage = await runUsageBench({
        quick,
        natsUrl: env.NATS_URL ?? null,
        env,
        databaseUrl,
        log,
        startStack,
      });
      const backbone = usage.ingestion.backbone;
      const rows: [string, string | number][] = [
        [
          `ingestion via the gateway, events/s (${usage.ingestion.batches} × ${usage.ingestion.batchSize}, ${usage.ingestion.concurrency} in flight)`,
          usage.ingestion.gatewayEventsPerSecond,
        ],
        ['floor: multi-row INSERT … ON CONFLICT DO NOTHING, events/s', usage.ingestion.floorEventsPerSecond],
        ['gateway / floor', usage.ingestion.gatewayOverFloor],
        ...('unavailable' in backbone
          ? ([['ingestion over the event backbone', backbone.unavailable]] as [string, string][])
          : ([
              [
                `ingestion over the backbone, events/s (up to ${backbone.batch} messages a transaction, ${backbone.concurrency} in flight)`,
                backbone.eventsPerSecond,
              ],
              ['backbone / floor', backbone.overFloor],
            ] as [string, number][])),
        [
          `rating: one period of ${usage.rating.events} events, ${usage.rating.subscriptions} subscriptions, s`,
          usage.rating.seconds,
        ],
        ['rating: peak RSS of the process, MiB', usage.rating.peakRssMiB],
        [
          `billing run: ${usage.billingRun.subscriptions} renewals with their usage lines, s`,
          usage.billingRun.seconds,
        ],
        ['billing run: renewals/s', usage.billingRun.renewalsPerSecond],
        ['billing run: peak RSS of the process, MiB', usage.billingRun.peakRssMiB],
      ];
      const width = Math.max(...rows.map(([k]) => k.length));
      return {
        lines: [
          `Usage (${usage.store}; load generator in the stack's process)`,
          ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
        ],
        json: usage as unknown as Record<string, unknown>,
        targets: [
          {
            target: 'usage ingestion via the gateway ≥ 0.5× the INSERT floor',
            measured: usage.ingestion.gatewayOverFloor,
            goal: 0.5,
            atLeast: true,
          },
          {
            target: 'usage ingestion over the backbone ≥ 0.8× the INSERT floor',
            measured: 'unavailable' in backbone ? null : backbone.overFloor,
            goal: 0.8,
            atLeast: true,
          },
          {
            target: `usage rating of ${usage.rating.events.toLocaleString('en')} events < 30 s`,
            measured: usage.rating.seconds,
            goal: 30,
            atLeast: false,
          },
          {
            target: 'usage rating peak RSS < 1024 MiB',
            measured: usage.rating.peakRssMiB,
            goal: 1024,
            atLeast: false,
          },
          {
            target: 'billing run with usage peak RSS < 1024 MiB',
            measured: usage.billingRun.peakRssMiB,
            goal: 1024,
            atLeast: false,
          },
        ],
      };
    },
  },
};
