import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { round } from './report.ts';

export const ROOT = join(import.meta.dirname, '..');
/** Everything the bench writes: seeded stores, run copies, the issuer key. Git-ignored. */
export const BENCH_DIR = join(ROOT, '.bench');

const HAS_TASKSET = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
const CORES = Number(spawnSync('nproc', [], { encoding: 'utf8' }).stdout.trim()) || 1;
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** How processes are pinned on this machine, for the report. */
export function pinning(): string {
  if (!HAS_TASKSET) return 'not pinned (no taskset)';
  if (CORES < 2) return 'not pinned (one core)';
  return "system under test on core 0, subgraphs and the database on core 1 (taskset; PostgreSQL: the bench's backends on a local server), load generator unpinned";
}

/** Whether processes can be pinned to cores here (taskset exists and there is more than one core). */
export function canPin(): boolean {
  return HAS_TASKSET && CORES > 1;
}

/** Pins a running process (all its threads) to one core; false when that was not possible. */
export function pinProcess(pid: number, core: number): boolean {
  if (!canPin()) return false;
  return (
    spawnSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' }).status === 0
  );
}

/** A bench child: one system under test or the shared subgraphs, with its pid for /proc readings. */
export interface BenchChild {
  name: string;
  process: ChildProcess;
  pid: number;
  /** The URL the child reported (its GraphQL endpoint). */
  url: string;
  output(): string;
  /** Sends an IPC request and waits for the answer with the same id. */
  request<T>(message: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  /** Core to pin to when taskset exists and the machine has more than one. */
  core: number | null;
  command: string[];
  env?: Record<string, string>;
  /** How the child says it is ready: an IPC `{ type: 'ready', url }` message, or a URL to poll. */
  ready: { ipc: true } | { poll: string; body: string };
  timeoutMs?: number;
}

/** `node --import tsx <script>`: the bench's own TypeScript children. */
export function tsxCommand(script: string): string[] {
  return [process.execPath, '--import', 'tsx', join(import.meta.dirname, script)];
}

export async function spawnChild(options: SpawnOptions): Promise<BenchChild> {
  const pinned = HAS_TASKSET && CORES > 1 && options.core !== null;
  const [command, ...args] = pinned
    ? ['taskset', '-c', String(options.core), ...options.command]
    : options.command;
  const child = spawn(command as string, args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const keep = (chunk: string) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  let readyUrl: string | null = null;
  child.on('message', (message: { type?: string; id?: number; url?: string }) => {
    if (message.type === 'ready' && message.url) readyUrl = message.url;
    if (message.id !== undefined) {
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    }
  });
  const timeout = options.timeoutMs ?? 90_000;
  const started = Date.now();
  const { ready } = options;
  for (;;) {
    if (exited) throw new Error(`${options.name} exited before it was ready:\n${output}`);
    if (Date.now() - started > timeout) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} was not ready within ${timeout / 1000}s:\n${output}`);
    }
    if ('ipc' in ready) {
      if (readyUrl) break;
    } else if (await answers(ready.poll, ready.body)) {
      readyUrl = ready.poll;
      break;
    }
    await sleep(100);
  }
  return {
    name: options.name,
    process: child,
    pid: child.pid as number,
    url: readyUrl as string,
    output: () => output,
    request: <T>(message: Record<string, unknown>) =>
      new Promise<T>((resolve, reject) => {
        if (exited) return reject(new Error(`${options.name} has exited:\n${output}`));
        const id = nextId++;
        pending.set(id, (answer) => {
          const { error } = answer as { error?: string };
          if (error) reject(new Error(`${options.name}: ${error}`));
          else resolve(answer as T);
        });
        child.send({ ...message, id });
      }),
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

async function answers(url: string, body: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(2000),
    });
    return response.status < 500;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pid and its descendants (a CLI that forks workers counts with them). */
function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    const dir = `/proc/${all[i]}/task`;
    if (!existsSync(dir)) continue;
    for (const task of readdirSync(dir)) {
      try {
        const children = readFileSync(join(dir, task, 'children'), 'utf8').trim();
        if (children) all.push(...children.split(/\s+/).map(Number));
      } catch {
        // The task ended while we looked.
      }
    }
  }
  return all;
}

/** User + system clock ticks used so far by one process (0 once it is gone), from /proc. */
function cpuTicks(pid: number): number {
  try {
    // Fields after the command name, which may contain spaces: state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) used so far by a process and its descendants, from /proc. */
export function cpuSeconds(pid: number): number {
  return processTree(pid).reduce((ticks, p) => ticks + cpuTicks(p), 0) / CLOCK_TICKS;
}

/**
 * CPU ms used so far per group of processes: `classify` names the group of a process from its
 * command line (null: not counted). Processes that exit between two snapshots lose their share, so
 * it is meant for long-lived ones (services, a pool's database backends, the NATS server). Empty
 * where /proc does not exist.
 */
export function cpuSnapshot(
  classify: (commandLine: string, pid: number) => string | null,
): Map<string, number> {
  const totals = new Map<string, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return totals;
  }
  for (const pid of pids) {
    let commandLine: string;
    try {
      commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue; // gone meanwhile
    }
    const group = classify(commandLine, Number(pid));
    if (group) totals.set(group, (totals.get(group) ?? 0) + (cpuTicks(Number(pid)) * 1000) / CLOCK_TICKS);
  }
  return totals;
}

/** CPU ms per unit of work between two snapshots, per group, plus `total`. */
export function cpuPerUnit(
  before: Map<string, number>,
  after: Map<string, number>,
  units: number,
): Record<string, number> {
  const result: Record<string, number> = {};
  let total = 0;
  for (const [group, ms] of [...after].sort(([a], [b]) => a.localeCompare(b))) {
    const spent = ms - (before.get(group) ?? 0);
    if (spent <= 0) continue;
    result[group] = round(spent / units, 1);
    total += spent;
  }
  result.total = round(total / units, 1);
  return result;
}

/** Resident and peak resident memory in MiB of a process and its descendants. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  let rss = 0;
  let peak = 0;
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    } catch {
      // Gone.
    }
  }
  return { rss, peak };
}

export { freePort } from '@c2c/apps/ports';

/** Where the comparison's Hive Gateway is installed: its own pinned project, not a workspace. */
export const HIVE_DIR = join(ROOT, 'bench', 'hive');

/**
 * Hive Gateway's CLI, installed on first use from bench/hive's lock file (`npm ci --prefix
 * bench/hive`): the project's own install does not carry it (it wants a newer Node than the project
 * supports, and its peers would fill every `npm ci` with warnings).
 */
export async function hiveGatewayBin(): Promise<string> {
  const bin = join(HIVE_DIR, 'node_modules', '@graphql-hive', 'gateway', 'dist', 'bin.js');
  if (existsSync(bin)) return bin;
  console.log('installing Hive Gateway for the comparison (once, into bench/hive/node_modules)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--prefix', HIVE_DIR, '--no-audit', '--no-fund', '--loglevel=error'], {
    stdio: 'inherit',
  });
  if (result.status !== 0 || !existsSync(bin))
    throw new Error(`could not install Hive Gateway into ${HIVE_DIR} (npm ci exited ${result.status})`);
  return bin;
}
