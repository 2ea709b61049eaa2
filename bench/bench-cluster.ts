import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Cluster } from '@c2c/apps/cluster';

/** What a section measuring on `npm run start:cluster`'s processes gets (see withBenchCluster). */
export interface BenchCluster {
  cluster: Cluster;
  /** Two connections to the cluster's database, for seeding and polling. */
  pool: pg.Pool;
  dataDir: string;
  replicas: number;
  /** Names a process of the system for CPU accounting (`/proc`), or null when it is not one of them. */
  classify: (commandLine: string, pid: number) => string | null;
}

/** Replicas of each service in the bench's clusters (BENCH_CLUSTER_REPLICAS, 1–8, default 2). */
export function clusterReplicas(): number {
  const given = Number(process.env.BENCH_CLUSTER_REPLICAS ?? 2);
  return Number.isInteger(given) && given >= 1 && given <= 8 ? given : 2;
}

/**
 * Runs `work` on a cluster of its own — a fresh database on the server, a fresh stream prefix,
 * 2 replicas of each service (BENCH_CLUSTER_REPLICAS) — and removes all of it afterwards.
 * NATS_BATCH_MAX in the bench's environment goes to the subgraphs (1: consumers without batches,
 * for comparison); BENCH_CPU_PROFILE_DIR profiles every process.
 */
export async function withBenchCluster<T>(
  options: {
    serverUrl: string;
    natsUrl: string;
    /** The section, in names and logs (`writes`, `billing`). */
    section: string;
    /** What the bench's own process is counted as. */
    benchLabel: string;
    gatewayEnv?: Record<string, string>;
    log: (line: string) => void;
  },
  work: (bench: BenchCluster) => Promise<T>,
): Promise<T> {
  const { startCluster } = await import('@c2c/apps/cluster');
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const suffix = randomBytes(4).toString('hex');
  const name = `c2c_bench_${options.section}_${suffix}`;
  const streamPrefix = `BENCH${options.section.slice(0, 1).toUpperCase()}${suffix.toUpperCase()}`;
  const admin = new pg.Client({ connectionString: options.serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const target = new URL(options.serverUrl);
  target.pathname = `/${name}`;
  const dataDir = mkdtempSync(join(tmpdir(), `c2c-bench-${options.section}-`));
  const pool = new pg.Pool({ connectionString: target.toString(), max: 2 });
  const replicas = clusterReplicas();
  const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
  options.log(`${options.section}: PostgreSQL + NATS cluster (${replicas} replicas of each service)…`);
  const classify = (commandLine: string, pid: number): string | null => {
    if (pid === process.pid) return options.benchLabel;
    const service = /dist\/(gateway|customer|subscription|finance)\.js/.exec(commandLine)?.[1];
    if (service) return service;
    if (commandLine.includes('nats-server')) return 'NATS server';
    const backend = new RegExp(`^postgres: [^:]*: (\\S+) ${name} `).exec(commandLine);
    if (backend) return `PostgreSQL (${backend[1]!.replace(/^c2c_/, '')})`;
    return null;
  };
  let cluster: Cluster | null = null;
  try {
    cluster = await startCluster({
      databaseUrl: target.toString(),
      natsUrl: options.natsUrl,
      replicas,
      dataDir,
      streamPrefix,
      autoRestart: false,
      output: () => undefined,
      ...(process.env.NATS_BATCH_MAX ? { env: { NATS_BATCH_MAX: process.env.NATS_BATCH_MAX } } : {}),
      ...(options.gatewayEnv ? { gatewayEnv: options.gatewayEnv } : {}),
      ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
    });
    return await work({ cluster, pool, dataDir, replicas, classify });
  } finally {
    await cluster?.stop();
    await pool.end();
    const cleanup = new pg.Client({ connectionString: options.serverUrl });
    await cleanup.connect();
    await cleanup.query(`drop database if exists ${name} with (force)`);
    await cleanup.end();
    const nc = await connect({ servers: options.natsUrl });
    const jsm = await jetstreamManager(nc);
    for await (const stream of jsm.streams.list()) {
      if (stream.config.name.startsWith(streamPrefix)) await jsm.streams.delete(stream.config.name);
    }
    await nc.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
