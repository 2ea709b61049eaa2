import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { prepareStore } from './store.ts';
import { HIVE_DIR, pinning, ROOT } from './processes.ts';
import { HIGH_CONNECTIONS, runReads, type ReadsReport } from './reads.ts';
import {
  LOAD_HEADER,
  loadRows,
  parseBenchArgs,
  round,
  table,
  type BenchArgs,
  type ReadRatios,
} from './report.ts';
import { runReconciliation, runSoak, type ReconciliationRun, type SoakReport } from './scale.ts';
import {
  openLoopRows,
  runClusterWrites,
  runWrites,
  type ClusterWritesReport,
  type WritesReport,
} from './writes.ts';
import { runContributed, startBenchStack, type ContributedResult } from './contributed.ts';
import { runCachedReads, type CachedReadsReport } from './cached-reads.ts';
import { microLines, runMicro, type MicroReport } from './micro.ts';
import {
  BILLING_RUN_TARGET_PER_SECOND,
  billingRunLines,
  runBillingRun,
  type BillingRunReport,
} from './billing-run.ts';

const HELP = `Usage: npm run bench -- [--quick] [--json] [--only reads|cached|writes|billing|scale|usage|erp|micro] [--database-url URL]

Benchmarks the supergraph on this machine, in one invocation (docs/benchmarks.md):
  reads   portal.CustomerToCash and portal.Customers, cold (a different variable set per request)
          and warm (the same one), from 100 principals in turn, through our gateway (production
          configuration), a bare @apollo/gateway, Hive Gateway, each over fresh subgraph processes
          of its own, and the floor (one process answering the same operations from the same
          database, no gateway), in rounds (2 quick, 3 full) with the order rotated each round:
          req/s, p50/p99, CPU per request, subgraph CPU, subgraph requests and SQL per operation
  cached  warm reads with the entity cache, 100 principals: our gateway with the cache in process and
          in Redis (REDIS_URL, default redis://127.0.0.1:6379; skipped when it does not answer)
          against the floor, which executes every request in full (bench/cached-reads.ts)
  writes  amendments per second end to end (accepted → COMPLETED) on the embedded store, the lag
          from billing's commit to the ERP's posting, and the PostgreSQL floor with pgbench; with
          NATS_URL and a PostgreSQL server, the same on npm run start:cluster's processes. After
          each peak (a closed loop of agents), an open loop at 80 % of it (amendments started on a
          fixed schedule, latencies from the scheduled start; 10 s quick, 60 s full): offered vs
          achieved rate and commit → ERP posting p50/p99 against the 1 s target
  billing the monthly billing run at scale: 10^5 subscriptions (--quick: 2,000; 1,000 in one
          process; BENCH_BILLING_RENEWALS) seeded with bulk SQL, then billing.RenewSubscriptions
          through the gateway, measured until every renewal is issued, posted in the ERP and in
          the CRM's contract values: renewals/s end to end (target 300/s), CPU per renewal, peak
          RSS (bench/billing-run.ts); on PostgreSQL + NATS (--database-url and NATS_URL) the
          cluster, else the one-process stack
  scale   reconciliation time and peak memory on 10^4 (--quick) or 10^5 and 10^6 invoices; in a
          full run, the gateway's memory over a 10-minute soak
  usage   usage.RecordUsage through our gateway in batches of 1,000 events (events/s) against the
          floor (the same rows by multi-row INSERT … ON CONFLICT DO NOTHING), and a billing run
          rating 10^5 events of 10^3 subscriptions (--quick) or 10^6 of 10^4: seconds, peak RSS
  erp     the ERP adapter: documents posted in Tryton through the adapter vs. with JSON-RPC
          directly, side by side (needs TRYTON_URL; a subgraph's contributed benchmark)
  micro   in-process costs per request on the hot path: the subgraphs' nonce cache at 1,000 and
          150,000 held nonces (against a bare Set of each size), and the gateway's bearer-token
          check with and without the verified-token cache

--quick          about 1–3 minutes once the seeded book is cached (40 customers instead of 240)
--json           print one JSON object with the raw figures and the ratios as the last line
--only S[,S]     only these sections
--database-url   a PostgreSQL server: the book lives in a database there instead of PGlite, and
                 the pgbench floor runs against it (default: DATABASE_URL; without one, PGlite only
                 and the PostgreSQL floor is reported as unavailable)
Environment: NATS_URL (the cluster's backbone for writes, billing and usage), NATS_BATCH_MAX (passed
to the cluster's subgraphs: 1 runs their consumers without batches, for comparison), TRYTON_URL.
Processes are pinned with taskset where it exists: the system under test on core 0, the
subgraphs and the database on core 1 (PostgreSQL: the bench's backends, on a local server), the
load generator unpinned. Data lives in .bench/ (git-ignored).`;

function version(pkg: string, root = ROOT): string {
  try {
    return (
      JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'not installed';
  }
}

async function machine(serverUrl: string | null) {
  const lscpu = spawnSync('lscpu', [], { encoding: 'utf8' }).stdout ?? '';
  let postgres: string | null = null;
  if (serverUrl) {
    const client = new pg.Client({ connectionString: serverUrl });
    try {
      await client.connect();
      postgres = String((await client.query('show server_version')).rows[0]?.server_version);
    } catch (error) {
      postgres = `unreachable (${(error as Error).message})`;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return {
    cores: cpus().length,
    cpu: /Model name:\s+(.+)/.exec(lscpu)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(),
    pinning: pinning(),
    versions: {
      node: process.versions.node,
      '@apollo/gateway': version('@apollo/gateway'),
      '@apollo/server': version('@apollo/server'),
      '@graphql-hive/gateway': version('@graphql-hive/gateway', HIVE_DIR),
      graphql: version('graphql'),
      '@electric-sql/pglite': version('@electric-sql/pglite'),
      autocannon: version('autocannon'),
      postgres,
      pgbench: spawnSync('pgbench', ['--version'], { encoding: 'utf8' }).stdout?.trim() || null,
    },
  };
}

interface Target {
  target: string;
  measured: number | null;
  goal: number;
  /** Whether higher is better. */
  atLeast: boolean;
  met: boolean | null;
}

function target(name: string, measured: number | null, goal: number, atLeast = true): Target {
  return {
    target: name,
    measured,
    goal,
    atLeast,
    met: measured === null ? null : atLeast ? measured >= goal : measured < goal,
  };
}

/** A ceiling that may be reached (≤), unlike `target(…, false)`'s strict one. */
function atMost(name: string, measured: number | null, goal: number): Target {
  return { ...target(name, measured, goal, false), met: measured === null ? null : measured <= goal };
}

function ratioLine(label: string, r: ReadRatios): string {
  const f = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)}×`);
  return `${label}: ours/Apollo Gateway ${f(r.oursOverApolloGateway)} · ours/Hive Gateway ${f(r.oursOverHiveGateway)} · ours/floor ${f(r.oursOverFloor)}`;
}

async function main(args: BenchArgs): Promise<void> {
  const log = (line: string) => console.error(`[bench] ${line}`);
  const started = Date.now();
  const command = `npm run bench --${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`;
  const info = await machine(args.databaseUrl);
  const customers = args.quick ? 40 : 240;
  // The soak (a full scale run) needs the book too; the usage section seeds its own data.
  const needsBook =
    args.only.includes('reads') ||
    args.only.includes('cached') ||
    args.only.includes('writes') ||
    (!args.quick && args.only.includes('scale'));
  const store = needsBook ? await prepareStore(customers, args.databaseUrl, log) : null;
  if (store)
    log(
      `book: ${customers} customers, ${store.describe} (${store.cached ? 'cached' : `seeded in ${store.seedSeconds.toFixed(0)} s`})`,
    );

  let reads: ReadsReport | null = null;
  if (args.only.includes('reads') && store) {
    reads = await runReads({ quick: args.quick, store: store.spec, log });
    // Hive Gateway may have been installed just now, by the reads.
    info.versions['@graphql-hive/gateway'] = version('@graphql-hive/gateway', HIVE_DIR);
  }

  let cached: CachedReadsReport | null = null;
  if (args.only.includes('cached') && store)
    cached = await runCachedReads({
      quick: args.quick,
      store: store.spec,
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      log,
    });

  let writes: WritesReport | null = null;
  let clusterWrites: ClusterWritesReport | { unavailable: string } | null = null;
  if (args.only.includes('writes') && store) {
    writes = await runWrites({ quick: args.quick, store: store.spec, serverUrl: args.databaseUrl, log });
    clusterWrites = await runClusterWrites({
      quick: args.quick,
      serverUrl: args.databaseUrl,
      natsUrl: process.env.NATS_URL ?? null,
      log,
    }).catch((error: unknown) => ({ unavailable: `failed: ${(error as Error).message}` }));
  }

  const billingRun: BillingRunReport | { unavailable: string } | null = args.only.includes('billing')
    ? await runBillingRun({
        quick: args.quick,
        serverUrl: args.databaseUrl,
        natsUrl: process.env.NATS_URL ?? null,
        env: process.env,
        log,
      }).catch((error: unknown) => ({ unavailable: `failed: ${(error as Error).message}` }))
    : null;
  const billed = billingRun && !('unavailable' in billingRun) ? billingRun : null;

  const reconciliation: ReconciliationRun[] = [];
  let soak: SoakReport | null = null;
  if (args.only.includes('scale')) {
    for (const invoices of args.quick ? [10_000] : [100_000, 1_000_000]) {
      reconciliation.push(await runReconciliation(invoices, args.databaseUrl, log));
    }
    if (!args.quick && store) soak = await runSoak(store.spec, 10, log);
  }

  const micro: MicroReport | null = args.only.includes('micro')
    ? await runMicro({ quick: args.quick, log })
    : null;

  const contributed: Record<string, ContributedResult> = await runContributed(
    // Sections a subgraph contributes (its bench/index.ts), run in rover.yaml's order.
    args.only.filter((s) => s === 'usage' || s === 'erp'),
    { quick: args.quick, env: process.env, log, databaseUrl: args.databaseUrl, startStack: startBenchStack },
  );

  const floorTps =
    writes && 'transactionsPerSecond' in writes.postgresFloor
      ? writes.postgresFloor.transactionsPerSecond
      : null;
  // The write target is on PostgreSQL + NATS: that figure when the cluster ran, else the embedded one.
  const cluster = clusterWrites && !('unavailable' in clusterWrites) ? clusterWrites : null;
  const clusterRate = cluster?.amendmentsPerSecond ?? null;
  const amendmentsPerSecond = clusterRate ?? writes?.amendmentsPerSecond ?? null;
  // The open loop at 80 % of the peak, on the same store as the rate above.
  const eighty = (cluster ?? writes)?.atEightyPercent ?? null;
  const atEightyPercent = eighty && !('unavailable' in eighty) ? eighty : null;
  const overPostgresFloor =
    amendmentsPerSecond !== null && floorTps ? round(amendmentsPerSecond / floorTps, 3) : null;

  const million = reconciliation.find((r) => r.invoices === 1_000_000) ?? null;
  const at50 = reads?.coldCustomerToCashAt50;
  const oursP99OverApolloP50 =
    at50?.ours && at50.apolloGateway ? round(at50.ours.p99Ms / at50.apolloGateway.p50Ms, 2) : null;
  const targets: Target[] = [
    target('cold reads ≥ 2× Apollo Gateway', reads?.ratios.cold.oursOverApolloGateway ?? null, 2),
    target('cold reads ≥ 1.5× Hive Gateway', reads?.ratios.cold.oursOverHiveGateway ?? null, 1.5),
    target('warm reads ≥ the floor', reads?.ratios.warm.oursOverFloor ?? null, 1),
    target(
      'warm cached reads, 100 principals ≥ 1.5× the floor (in process)',
      cached?.ratios.memoryOverFloor ?? null,
      1.5,
    ),
    target(
      'warm cached reads, 100 principals ≥ 1.5× the floor (Redis)',
      cached?.ratios.redisOverFloor ?? null,
      1.5,
    ),
    target(
      `cold p99 at ${HIGH_CONNECTIONS} connections < Apollo's p50 (ratio)`,
      oursP99OverApolloP50,
      1,
      false,
    ),
    target(
      `amendments ≥ 1000/s end to end (${clusterRate !== null ? 'PostgreSQL + NATS' : 'embedded'})`,
      amendmentsPerSecond,
      1000,
    ),
    // Issue 19's write path, on PostgreSQL + NATS (amortised per completed amendment, all processes).
    target('amendments ≥ 250/s on PostgreSQL + NATS', clusterRate, 250),
    {
      // Not met when the rate was not sustained, whatever the latency (it was not at 80 % then).
      ...target(
        `commit → ERP posting p99 < 1000 ms at 80 % of the peak (${cluster ? 'PostgreSQL + NATS' : (writes?.store ?? 'embedded')}, ms)`,
        atEightyPercent?.commitToPostingMs.p99 ?? null,
        1000,
        false,
      ),
      met: atEightyPercent?.met ?? null,
    },
    atMost('CPU ≤ 8 ms per amendment (all processes)', cluster?.cpuMsPerAmendment.total ?? null, 8),
    atMost('≤ 4 PostgreSQL transactions per amendment', cluster?.transactionsPerAmendment ?? null, 4),
    atMost('≤ 20 SQL statements per amendment', cluster?.statementsPerAmendment.total ?? null, 20),
    target(
      `billing run: ${billed?.renewals.toLocaleString('en') ?? 'N'} renewals end to end ≥ ${BILLING_RUN_TARGET_PER_SECOND}/s (${billed?.store ?? 'not run'})`,
      billed?.renewalsPerSecond ?? null,
      BILLING_RUN_TARGET_PER_SECOND,
    ),
    target('reconciliation of 10^6 invoices < 60 s', million?.seconds ?? null, 60, false),
    target('reconciliation of 10^6 invoices < 1024 MiB', million?.peakMiB.total ?? null, 1024, false),
    ...Object.values(contributed).flatMap((c) =>
      c.targets.map((t) => target(t.target, t.measured, t.goal, t.atLeast)),
    ),
  ];

  // The human report.
  const out: string[] = [];
  out.push(
    `Benchmark (${args.quick ? 'quick' : 'full'}) · ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB · ${info.pinning}`,
  );
  out.push(`command: ${command}`);
  if (store) out.push(`book: ${customers} customers on ${store.describe}`);
  if (reads) {
    out.push(
      '',
      `Reads, cold (${reads.connections} connections, ${reads.secondsPerRun} s per run, ${reads.principals} principals in turn, median of ${reads.rounds.length} rounds in rotated order, fresh subgraphs per system)`,
    );
    out.push(table(LOAD_HEADER, loadRows(reads.cold)));
    out.push('', 'Reads, warm');
    out.push(table(LOAD_HEADER, loadRows(reads.warm)));
    out.push('', ratioLine('cold', reads.ratios.cold), ratioLine('warm', reads.ratios.warm));
    for (const r of reads.rounds)
      out.push(ratioLine(`  round ${r.round} (${r.order.join(' → ')}), cold`, r.ratios.cold));
    out.push('', `Reads, cold CustomerToCash at ${HIGH_CONNECTIONS} connections`);
    out.push(
      table(
        ['system', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'errors'],
        Object.entries(reads.coldCustomerToCashAt50).map(([system, r]) => [
          system,
          r ? round(r.requestsPerSecond, 1) : null,
          r?.p50Ms ?? null,
          r?.p99Ms ?? null,
          r?.cpuMsPerRequest != null ? round(r.cpuMsPerRequest, 2) : null,
          r?.errors ?? null,
        ]),
      ),
    );
    out.push(`ours p99 ÷ Apollo p50 at ${HIGH_CONNECTIONS} connections: ${oursP99OverApolloP50 ?? '—'}`);
    for (const note of reads.notes) out.push(`note: ${note}`);
  }
  if (cached) {
    out.push(
      '',
      `Reads, warm with the entity cache: ${cached.principals} principals, ${cached.bodies} variable sets (${cached.connections} connections, ${cached.secondsPerRun} s per run)`,
    );
    out.push(
      table(
        [...LOAD_HEADER.slice(0, -1), 'cache hit rate', 'errors'],
        Object.entries(cached.results).map(([system, r]) => [
          system,
          r ? round(r.requestsPerSecond, 1) : null,
          r ? round(r.p50Ms, 1) : null,
          r ? round(r.p99Ms, 1) : null,
          r?.cpuMsPerRequest != null ? round(r.cpuMsPerRequest, 2) : null,
          r?.subgraphCpuMsPerRequest != null ? round(r.subgraphCpuMsPerRequest, 2) : null,
          r?.subgraphRequestsPerOperation != null ? round(r.subgraphRequestsPerOperation, 2) : null,
          r?.sqlQueriesPerOperation != null ? round(r.sqlQueriesPerOperation, 2) : null,
          cached.hitRates[system as keyof typeof cached.hitRates] ?? null,
          r?.errors ?? null,
        ]),
      ),
    );
    out.push(
      `cached ÷ floor: in process ${cached.ratios.memoryOverFloor ?? '—'}, Redis ${cached.ratios.redisOverFloor ?? '—'}`,
    );
    for (const note of cached.notes) out.push(`note: ${note}`);
  }
  if (writes) {
    out.push('', `Writes (${writes.store}, ${writes.concurrency} concurrent agents, ${writes.seconds} s)`);
    out.push(
      table(
        ['measure', 'value'],
        [
          ['amendments completed', writes.amendments],
          ['amendments rejected', writes.rejected],
          ['amendments/s end to end', writes.amendmentsPerSecond],
          ['accepted → COMPLETED p50 / p99 ms', `${writes.endToEndMs.p50} / ${writes.endToEndMs.p99}`],
          [
            'commit → ERP posting p50 / p99 ms',
            `${writes.commitToPostingMs.p50} / ${writes.commitToPostingMs.p99}`,
          ],
          [
            'PostgreSQL floor (pgbench) amendments/s',
            'transactionsPerSecond' in writes.postgresFloor
              ? writes.postgresFloor.transactionsPerSecond
              : `unavailable: ${writes.postgresFloor.unavailable}`,
          ],
          ...openLoopRows(writes.store, writes.atEightyPercent),
          ['ours / PostgreSQL floor', overPostgresFloor],
          [
            `PostgreSQL + NATS amendments/s (${cluster?.replicas ?? 'N'} replicas each)`,
            cluster?.amendmentsPerSecond ??
              (clusterWrites && 'unavailable' in clusterWrites
                ? `unavailable: ${clusterWrites.unavailable}`
                : '—'),
          ],
          [
            'PostgreSQL + NATS accepted → COMPLETED / commit → posting p99 ms',
            cluster ? `${cluster.endToEndMs.p99} / ${cluster.commitToPostingMs.p99}` : '—',
          ],
          ...openLoopRows('PostgreSQL + NATS', cluster?.atEightyPercent),
          ['PostgreSQL + NATS transactions per amendment', cluster?.transactionsPerAmendment ?? '—'],
          ...Object.entries(cluster?.statementsPerAmendment ?? {}).map(
            ([part, n]) => [`PostgreSQL + NATS SQL statements per amendment: ${part}`, n] as [string, number],
          ),
          ...Object.entries(cluster?.cpuMsPerAmendment ?? {}).map(
            ([part, ms]) => [`PostgreSQL + NATS CPU ms per amendment: ${part}`, ms] as [string, number],
          ),
        ],
      ),
    );
  }
  if (billed) out.push('', ...billingRunLines(billed));
  else if (billingRun && 'unavailable' in billingRun)
    out.push('', `Billing run at scale: ${billingRun.unavailable}`);
  if (reconciliation.length) {
    out.push('', 'Scale: reconciliation (npm run c2c -- reconcile through our gateway)');
    out.push(
      table(
        [
          'invoices',
          'seconds',
          'differences (planted)',
          'peak MiB client',
          'gateway',
          'subgraphs',
          'total',
          'generate s',
        ],
        reconciliation.map((r) => [
          r.invoices.toLocaleString('en'),
          r.seconds,
          `${r.differencesFound} (${r.differencesPlanted})`,
          r.peakMiB.client,
          r.peakMiB.gateway,
          r.peakMiB.subgraphs,
          r.peakMiB.total,
          r.generateSeconds,
        ]),
      ),
    );
  }
  if (soak) {
    out.push(
      '',
      `Soak: ${soak.minutes} min, ${soak.requests} requests, gateway RSS ${soak.rssMiB.start} → ${soak.rssMiB.end} MiB (max ${soak.rssMiB.max}), slope ${soak.slopeMiBPerMinute} MiB/min`,
    );
  }
  if (micro) out.push('', ...microLines(micro));
  for (const c of Object.values(contributed)) out.push('', ...c.lines);
  out.push('', 'Targets');
  out.push(
    table(
      ['target', 'measured', 'met'],
      targets.map((t) => [t.target, t.measured, t.met === null ? 'not measured' : t.met ? 'yes' : 'NO']),
    ),
  );
  out.push('', `Finished in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  console.log(out.join('\n'));

  if (args.json) {
    const ratios = (r: ReadRatios | undefined, results: unknown) => ({
      oursOverApolloGateway: r?.oursOverApolloGateway ?? null,
      oursOverHiveGateway: r?.oursOverHiveGateway ?? null,
      oursOverFloor: r?.oursOverFloor ?? null,
      results,
    });
    console.log(
      JSON.stringify({
        benchmark: 'c2c-supergraph',
        quick: args.quick,
        command,
        machine: info,
        store: store ? { customers, describe: store.describe } : null,
        coldReads: {
          ...ratios(reads?.ratios.cold, reads?.cold ?? null),
          principals: reads?.principals ?? null,
          rounds: reads?.rounds ?? [],
          at50Connections: {
            oursP99OverApolloP50,
            customerToCash: reads?.coldCustomerToCashAt50 ?? null,
          },
        },
        warmReads: ratios(reads?.ratios.warm, reads?.warm ?? null),
        readNotes: reads?.notes ?? [],
        cachedReads: cached,
        writes: {
          amendmentsPerSecond,
          embeddedAmendmentsPerSecond: writes?.amendmentsPerSecond ?? null,
          overPostgresFloor,
          commitToPostingMs: writes?.commitToPostingMs ?? null,
          endToEndMs: writes?.endToEndMs ?? null,
          atEightyPercent: eighty,
          postgresFloor: writes?.postgresFloor ?? null,
          postgresNats: clusterWrites,
          raw: writes,
        },
        billingRun: billed
          ? {
              renewalsPerSecond: billed.renewalsPerSecond,
              overTarget: billed.overTarget,
              target: BILLING_RUN_TARGET_PER_SECOND,
              raw: billed,
            }
          : billingRun,
        scale: { reconciliation, soak },
        micro,
        ...Object.fromEntries(Object.entries(contributed).map(([name, c]) => [name, c.json])),
        targets,
        seconds: round((Date.now() - started) / 1000, 1),
      }),
    );
  }
}

const parsed = parseBenchArgs(process.argv.slice(2), process.env);
if (!parsed.ok) {
  console.error(`${parsed.error}\n\n${HELP}`);
  process.exit(2);
} else if (parsed.args.help) {
  console.log(HELP);
} else {
  main(parsed.args).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(
        `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exit(1);
    },
  );
}
