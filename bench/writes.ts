import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { operation } from '@c2c/schema/operations';
import { subgraphOfSystem } from '@c2c/schema/subgraphs';
import type { StoreSpec } from './child-runtime.ts';
import { withBenchCluster } from './bench-cluster.ts';
import { BENCH_DIR, cpuPerUnit, cpuSnapshot, spawnChild, tsxCommand } from './processes.ts';
import { arrivalSchedule, completionRate, sustained } from './open-loop.ts';
import { percentile, round } from './report.ts';
import { ourGatewayEnv, secretsEnv } from './security.ts';
import { gatewayClient } from '@c2c/cli/gateway-client';
import { benchToken } from './token.ts';

// Billing's and the ERP's tables are read directly; their schemas come from the ownership rules.
const BILLING = subgraphOfSystem('billing');
const ERP = subgraphOfSystem('ERP');

export interface WritesReport {
  store: string;
  amendments: number;
  rejected: number;
  seconds: number;
  concurrency: number;
  amendmentsPerSecond: number;
  /** Mutation sent → COMPLETED seen by the bench's watcher (one status query for all open amendments every 10 ms). */
  endToEndMs: { p50: number | null; p99: number | null };
  /** Status queries the bench's watcher sent (each one PostgreSQL transaction). */
  watcherQueries: number;
  /** Billing's transaction (amendment.created_at) → the ERP's posting (receivable.posted_at). */
  commitToPostingMs: { p50: number | null; p99: number | null };
  /** After the closed loop's peak: arrivals at a fixed 80 % of it (an open loop), on the same processes. */
  atEightyPercent: OpenLoopReport | { unavailable: string };
  postgresFloor: PgbenchResult | { unavailable: string };
}

type Percentiles = { p50: number | null; p99: number | null };

/**
 * Amendments started on a fixed schedule (evenly spaced, whatever the system answers), so queueing
 * shows in the latencies instead of slowing the arrivals down as the closed loop's agents do.
 * Every latency but commit → posting counts from the amendment's scheduled start.
 */
export interface OpenLoopReport {
  /** The closed loop's amendments/s this run was a fraction of. */
  peakPerSecond: number;
  fraction: number;
  offeredPerSecond: number;
  seconds: number;
  scheduled: number;
  completed: number;
  rejected: number;
  /** Completions per second between the first and the last (bench/open-loop.ts completionRate). */
  achievedPerSecond: number | null;
  /** Every amendment completed, at ≥ 95 % of the offered rate. */
  sustained: boolean;
  /** Amendments not yet COMPLETED when the last one was started (the backlog at the schedule's end). */
  openAtScheduleEnd: number;
  /**
   * Scheduled start → mutation sent: the bench's own lateness. It includes waiting for a
   * subscription without an open amendment (one at a time per subscription, as the agents do);
   * `waitedForSubscription` counts the amendments that had to.
   */
  startDelayMs: Percentiles;
  waitedForSubscription: number;
  /** Scheduled start → the mutation's answer. */
  mutationMs: Percentiles;
  /** Scheduled start → COMPLETED seen by the watcher. */
  endToEndMs: Percentiles;
  /** Billing's transaction (amendment.created_at) → the ERP's posting (receivable.posted_at): the target's measure. */
  commitToPostingMs: Percentiles;
  /** Scheduled start → the ERP's posting (the bench's clock against the database's: same host). */
  scheduledToPostingMs: Percentiles;
  /** Issue 19: commit → ERP posting p99 below this, at this rate. */
  targetP99Ms: number;
  /** p99 below the target and the rate sustained; null when nothing was posted. */
  met: boolean | null;
}

export interface PgbenchResult {
  transactionsPerSecond: number;
  clients: number;
  seconds: number;
  latencyAverageMs: number | null;
}

interface Target {
  id: string;
  seats: number;
  effectiveDate: string;
  /** Amendments sent for it so far: seats go +1, then −1, and so on. */
  sent: number;
}

/** Runs SQL on the store behind the gateway (the bench reads targets and statuses with it). */
type SqlRunner = <R>(text: string) => Promise<{ rows: R[] }>;

/** The active subscriptions, with their seats as they are now. */
async function readTargets(runSql: SqlRunner): Promise<Target[]> {
  const { rows } = await runSql<{ id: string; seats: number; current_period_start: string }>(
    `select id, seats, current_period_start::text from ${BILLING}.subscription where status = 'ACTIVE' order by id`,
  );
  if (rows.length === 0) throw new Error('no active subscription to amend');
  return rows.map((r) => ({
    id: r.id,
    seats: Number(r.seats),
    effectiveDate: r.current_period_start,
    sent: 0,
  }));
}

/**
 * One watcher reads the open amendments' status for every agent (one query per 10 ms), instead of
 * each agent polling AmendmentStatus: at 64 agents that polling alone was 6,400 gateway requests
 * per second competing with the pipeline it measures. The API is still checked at the end.
 */
function statusWatcher(runSql: SqlRunner) {
  const waiting = new Map<string, { settle: (status: string) => void }>();
  let watching = true;
  let queries = 0;
  const loop = (async () => {
    while (watching) {
      if (waiting.size > 0) {
        queries += 1;
        const ids = [...waiting.keys()];
        const { rows: done } = await runSql<{ id: string; status: string }>(
          `select id::text as id, status from ${BILLING}.amendment
            where id in (${ids.map((id) => `'${id}'`).join(', ')}) and status in ('COMPLETED', 'EXCEPTION')`,
        );
        for (const row of done) {
          waiting.get(row.id)?.settle(row.status);
          waiting.delete(row.id);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    /** COMPLETED or EXCEPTION, once the watcher has read it; rejects after 60 s. */
    completion: (id: string) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`amendment ${id} not COMPLETED in 60 s`));
        }, 60_000);
        waiting.set(id, {
          settle: (status) => {
            clearTimeout(timer);
            resolve(status);
          },
        });
      }),
    queries: () => queries,
    stop: async () => {
      watching = false;
      await loop;
    },
  };
}

type AmendmentSent = { id: string } | { rejected: string };

/** support.AmendSubscription for `target` (seats +1, then −1, effective at the period start). */
async function sendAmendment(
  gql: ReturnType<typeof gatewayClient>,
  target: Target,
  idempotencyKey: string,
): Promise<AmendmentSent> {
  const seats = target.seats > 1 && target.sent % 2 === 1 ? target.seats - 1 : target.seats + 1;
  target.sent += 1;
  const data = await gql<{
    amendSubscription: {
      amendment: { id: string } | null;
      subscription: { seats: number } | null;
      userErrors: { code: string; message: string }[];
    };
  }>(operation('support.AmendSubscription'), {
    input: {
      subscriptionId: target.id,
      seats,
      effectiveDate: target.effectiveDate,
      idempotencyKey,
      reason: 'benchmark',
    },
  });
  const payload = data.amendSubscription;
  if (payload.userErrors.length || !payload.amendment)
    return { rejected: payload.userErrors.map((e) => `${e.code} ${e.message}`).join('; ') || 'no amendment' };
  target.seats = payload.subscription?.seats ?? seats;
  const id = payload.amendment.id;
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`unexpected amendment id ${id}`);
  return { id };
}

/** The API agrees with what the watcher read. */
async function checkCompleted(gql: ReturnType<typeof gatewayClient>, ids: string[]): Promise<void> {
  for (const id of ids) {
    const status = await gql<{ amendment: { status: string } | null }>(operation('support.AmendmentStatus'), {
      id,
    });
    if (status.amendment?.status !== 'COMPLETED')
      throw new Error(`AmendmentStatus of ${id} is ${status.amendment?.status ?? 'missing'}, not COMPLETED`);
  }
}

/** Per posted amendment: billing's commit → the ERP's posting, and the posting's time (epoch ms). */
async function postings(
  runSql: SqlRunner,
  ids: readonly string[],
): Promise<Map<string, { lagMs: number; postedAtMs: number }>> {
  if (ids.length === 0) return new Map();
  const { rows } = await runSql<{ id: string; ms: string | number; posted: string | number }>(
    `select a.id::text as id, extract(epoch from (r.posted_at - a.created_at)) * 1000 as ms,
            extract(epoch from r.posted_at) * 1000 as posted
      from ${BILLING}.amendment a join ${ERP}.receivable r on r.invoice_id = a.invoice_id
      where a.id in (${ids.map((id) => `'${id}'`).join(', ')}) and r.posted_at is not null`,
  );
  return new Map(rows.map((r) => [r.id, { lagMs: Number(r.ms), postedAtMs: Number(r.posted) }]));
}

const percentiles = (values: readonly number[], digits = 1): Percentiles => ({
  p50: values.length ? round(percentile(values, 50) as number, digits) : null,
  p99: values.length ? round(percentile(values, 99) as number, digits) : null,
});

/**
 * Amendments end to end through a gateway: `concurrency` support agents, each amending its own
 * subscriptions one after another (seats +1, then −1, effective at the period start), each waiting
 * for COMPLETED before the next, for `seconds`.
 */
async function amend(
  gatewayUrl: string,
  runSql: SqlRunner,
  seconds: number,
  concurrency: number,
  token: string,
): Promise<Omit<WritesReport, 'store' | 'postgresFloor' | 'atEightyPercent'>> {
  const gql = gatewayClient(gatewayUrl, token);
  const targets = await readTargets(runSql);
  const workers = Math.min(concurrency, targets.length);
  const completedIds: string[] = [];
  const endToEnd: number[] = [];
  let rejected = 0;
  let firstError: string | null = null;
  const started = Date.now();
  const deadline = started + seconds * 1000;
  let lastCompleted = started;
  let serial = 0;
  const watcher = statusWatcher(runSql);

  const worker = async (index: number) => {
    const mine = targets.filter((_, i) => i % workers === index);
    for (let round = 0; Date.now() < deadline; round++) {
      const target = mine[round % mine.length] as Target;
      const sent = Date.now();
      const result = await sendAmendment(gql, target, `bench-${process.pid}-${started}-${serial++}`);
      if ('rejected' in result) {
        rejected++;
        firstError ??= result.rejected;
        if (rejected > 20 && completedIds.length === 0) throw new Error(`amendments rejected: ${firstError}`);
        continue;
      }
      const status = await watcher.completion(result.id);
      if (status === 'EXCEPTION') throw new Error(`amendment ${result.id} failed`);
      const now = Date.now();
      completedIds.push(result.id);
      endToEnd.push(now - sent);
      lastCompleted = now;
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
  } finally {
    await watcher.stop();
  }
  await checkCompleted(gql, completedIds.slice(-3));
  if (completedIds.length === 0) throw new Error(`no amendment completed (${firstError ?? 'no error'})`);
  const elapsed = (lastCompleted - started) / 1000;
  const lags = [...(await postings(runSql, completedIds)).values()].map((p) => p.lagMs);
  return {
    watcherQueries: watcher.queries(),
    amendments: completedIds.length,
    rejected,
    seconds: round(elapsed, 1),
    concurrency: workers,
    amendmentsPerSecond: round(completedIds.length / elapsed, 1),
    endToEndMs: { p50: percentile(endToEnd, 50), p99: percentile(endToEnd, 99) },
    commitToPostingMs: percentiles(lags),
  };
}

/** Issue 19: commit → ERP posting p99 below 1 s at 80 % of the peak rate. */
const POSTING_TARGET_P99_MS = 1000;
const FRACTION_OF_PEAK = 0.8;

/**
 * Amendments at a fixed rate for `seconds` (an open loop): amendment i is started at i ÷ rate
 * seconds, whether or not the earlier ones have completed. Each takes a subscription without an
 * open amendment (the least recently amended), as an agent amends one subscription at a time; when
 * none is free it waits, and the wait counts in its latencies, which all start at the scheduled
 * time. Then the commit → posting lags of the amendments, as the closed loop reads them.
 */
async function amendAtRate(
  gatewayUrl: string,
  runSql: SqlRunner,
  peakPerSecond: number,
  seconds: number,
  token: string,
): Promise<OpenLoopReport> {
  const gql = gatewayClient(gatewayUrl, token);
  const offeredPerSecond = round(peakPerSecond * FRACTION_OF_PEAK, 1);
  const schedule = arrivalSchedule(offeredPerSecond, seconds);
  if (schedule.length === 0) throw new Error(`no arrivals at ${offeredPerSecond}/s`);
  const free = await readTargets(runSql);
  const queued: ((target: Target) => void)[] = [];
  const take = (): Target | Promise<Target> =>
    free.shift() ?? new Promise<Target>((resolve) => queued.push(resolve));
  const release = (target: Target) => {
    const next = queued.shift();
    if (next) next(target);
    else free.push(target);
  };
  const watcher = statusWatcher(runSql);
  const startDelay: number[] = [];
  const mutation: number[] = [];
  const endToEnd: number[] = [];
  const completedAt: number[] = [];
  const completed: { id: string; scheduled: number }[] = [];
  let rejected = 0;
  let waited = 0;
  let failure: unknown = null;
  const started = Date.now();

  const arrival = async (scheduled: number, index: number) => {
    let target = take();
    if (target instanceof Promise) {
      waited += 1;
      target = await target;
    }
    try {
      startDelay.push(Date.now() - scheduled);
      const result = await sendAmendment(gql, target, `bench-open-${process.pid}-${started}-${index}`);
      mutation.push(Date.now() - scheduled);
      if ('rejected' in result) {
        rejected += 1;
        return;
      }
      const status = await watcher.completion(result.id);
      if (status === 'EXCEPTION') throw new Error(`amendment ${result.id} failed`);
      const now = Date.now();
      endToEnd.push(now - scheduled);
      completedAt.push(now);
      completed.push({ id: result.id, scheduled });
    } finally {
      release(target);
    }
  };
  const arrivals: Promise<void>[] = [];
  let openAtScheduleEnd = 0;
  try {
    for (const [index, offset] of schedule.entries()) {
      if (failure) break;
      // Whole milliseconds, as Date.now() counts them; a timer may fire a little early, so wait it out.
      const due = Math.ceil(started + offset);
      while (Date.now() < due) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      arrivals.push(
        arrival(due, index).catch((error: unknown) => {
          failure ??= error;
        }),
      );
    }
    openAtScheduleEnd = arrivals.length - completed.length - rejected;
    await Promise.all(arrivals);
  } finally {
    await watcher.stop();
  }
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  await checkCompleted(
    gql,
    completed.slice(-3).map((c) => c.id),
  );
  const posted = await postings(
    runSql,
    completed.map((c) => c.id),
  );
  const lags = [...posted.values()].map((p) => p.lagMs);
  const scheduledToPosting = completed.flatMap((c) => {
    const p = posted.get(c.id);
    return p ? [p.postedAtMs - c.scheduled] : [];
  });
  const achieved = completionRate(completedAt);
  const achievedPerSecond = achieved === null ? null : round(achieved, 1);
  const isSustained = sustained(offeredPerSecond, achievedPerSecond, schedule.length, completed.length);
  const commitToPostingMs = percentiles(lags);
  return {
    peakPerSecond,
    fraction: FRACTION_OF_PEAK,
    offeredPerSecond,
    seconds,
    scheduled: schedule.length,
    completed: completed.length,
    rejected,
    achievedPerSecond,
    sustained: isSustained,
    openAtScheduleEnd,
    startDelayMs: percentiles(startDelay),
    waitedForSubscription: waited,
    mutationMs: percentiles(mutation),
    endToEndMs: percentiles(endToEnd),
    commitToPostingMs,
    scheduledToPostingMs: percentiles(scheduledToPosting),
    targetP99Ms: POSTING_TARGET_P99_MS,
    met: commitToPostingMs.p99 === null ? null : isSustained && commitToPostingMs.p99 < POSTING_TARGET_P99_MS,
  };
}

/** The open-loop run after the closed loop's peak; its failure is reported, not the section's. */
async function atEightyPercent(
  gatewayUrl: string,
  runSql: SqlRunner,
  peakPerSecond: number,
  quick: boolean,
  token: string,
  log: (line: string) => void,
): Promise<OpenLoopReport | { unavailable: string }> {
  const seconds = quick ? 10 : 60;
  log(
    `writes: open loop at ${FRACTION_OF_PEAK * 100} % of the peak (${round(peakPerSecond * FRACTION_OF_PEAK, 1)}/s for ${seconds} s)…`,
  );
  try {
    return await amendAtRate(gatewayUrl, runSql, peakPerSecond, seconds, token);
  } catch (error) {
    return { unavailable: `failed: ${(error as Error).message}` };
  }
}

/** The open-loop run's rows for the text report. */
export function openLoopRows(
  label: string,
  report: OpenLoopReport | { unavailable: string } | undefined,
): [string, string | number | null][] {
  if (!report) return [];
  if ('unavailable' in report)
    return [[`${label}: open loop at 80 % of the peak`, `unavailable: ${report.unavailable}`]];
  const pair = (p: Percentiles) => `${p.p50 ?? '—'} / ${p.p99 ?? '—'}`;
  return [
    [
      `${label}: open loop at ${report.fraction * 100} % of ${report.peakPerSecond}/s, offered → achieved amendments/s`,
      `${report.offeredPerSecond} → ${report.achievedPerSecond ?? '—'} (${report.sustained ? 'sustained' : 'NOT sustained'}; ${report.completed}/${report.scheduled} completed in ${report.seconds} s)`,
    ],
    [
      `${label}: open loop commit → ERP posting p50 / p99 ms (target p99 < ${report.targetP99Ms})`,
      `${pair(report.commitToPostingMs)} (${report.met === null ? 'not measured' : report.met ? 'met' : 'NOT met'})`,
    ],
    [`${label}: open loop scheduled start → mutation answered p50 / p99 ms`, pair(report.mutationMs)],
    [`${label}: open loop scheduled start → COMPLETED p50 / p99 ms`, pair(report.endToEndMs)],
    [`${label}: open loop scheduled start → ERP posting p50 / p99 ms`, pair(report.scheduledToPostingMs)],
    [
      `${label}: open loop start delay p50 / p99 ms (waited for a subscription)`,
      `${pair(report.startDelayMs)} (${report.waitedForSubscription})`,
    ],
  ];
}

// One amendment's database work, as three transactions like the workflow's: billing's (lock the
// subscription, bump it, the proration invoice and its line, the amendment and its steps, the
// idempotency record, two outbox rows), the ERP's (inbox, receivable, journal entry and lines,
// step, outbox) and the CRM's (inbox, contract line, customer, step, outbox).
const SETUP = `
drop table if exists b_sub, b_invoice, b_line, b_amendment, b_step, b_idem, b_outbox, b_inbox, b_receivable, b_journal, b_jline, b_contract, b_customer;
create table b_sub (id int primary key, seats int not null, version int not null);
insert into b_sub select g, 10, 1 from generate_series(1, 1000) g;
create table b_invoice (id bigserial primary key, sub int not null, total bigint not null, created_at timestamptz default now());
create table b_line (invoice bigint not null, line int not null, amount bigint not null, primary key (invoice, line));
create table b_amendment (id bigserial primary key, sub int not null, status text not null, invoice bigint, created_at timestamptz default now());
create table b_step (amendment bigint not null, system text not null, status text not null, primary key (amendment, system));
create table b_idem (key text primary key, response jsonb not null);
create table b_outbox (seq bigserial primary key, type text not null, payload jsonb not null);
create table b_inbox (consumer text not null, event uuid not null, primary key (consumer, event));
create table b_receivable (invoice bigint primary key, total bigint not null, posted_at timestamptz);
create table b_journal (id bigserial primary key, source bigint not null);
create table b_jline (entry bigint not null, line int not null, amount bigint not null, primary key (entry, line));
create table b_contract (sub int primary key, value bigint not null);
create table b_customer (id int primary key, value bigint not null);
insert into b_customer select g, 0 from generate_series(1, 1000) g;
`;

const SCRIPT = `\\set sid random(1, 1000)
BEGIN;
SELECT seats, version FROM b_sub WHERE id = :sid FOR UPDATE;
UPDATE b_sub SET seats = seats + 1, version = version + 1 WHERE id = :sid;
INSERT INTO b_invoice (sub, total) VALUES (:sid, 1680) RETURNING id \\gset inv_
INSERT INTO b_line VALUES (:inv_id, 1, 1412);
INSERT INTO b_amendment (sub, status, invoice) VALUES (:sid, 'INVOICED', :inv_id) RETURNING id \\gset am_
INSERT INTO b_step VALUES (:am_id, 'BILLING', 'DONE'), (:am_id, 'ERP', 'PENDING'), (:am_id, 'CRM', 'PENDING');
INSERT INTO b_idem VALUES (gen_random_uuid()::text, '{"ok":true}');
INSERT INTO b_outbox (type, payload) VALUES ('subscription.amended', '{"seats":11}'), ('invoice.issued', '{"total":1680}');
COMMIT;
BEGIN;
INSERT INTO b_inbox VALUES ('erp', gen_random_uuid());
INSERT INTO b_receivable VALUES (:inv_id, 1680, now());
INSERT INTO b_journal (source) VALUES (:inv_id) RETURNING id \\gset je_
INSERT INTO b_jline VALUES (:je_id, 1, 1680), (:je_id, 2, 1412), (:je_id, 3, 268);
UPDATE b_step SET status = 'DONE' WHERE amendment = :am_id AND system = 'ERP';
INSERT INTO b_outbox (type, payload) VALUES ('invoice.posted', '{}');
COMMIT;
BEGIN;
INSERT INTO b_inbox VALUES ('crm', gen_random_uuid());
INSERT INTO b_contract VALUES (:sid, 1194) ON CONFLICT (sub) DO UPDATE SET value = excluded.value;
UPDATE b_customer SET value = value + 1 WHERE id = :sid;
UPDATE b_step SET status = 'DONE' WHERE amendment = :am_id AND system = 'CRM';
UPDATE b_amendment SET status = 'COMPLETED' WHERE id = :am_id;
INSERT INTO b_outbox (type, payload) VALUES ('contract.synced', '{}');
COMMIT;
`;

/** pgbench with the amendment's transactions above on a scratch database of the given server. */
export async function pgbenchFloor(
  serverUrl: string | null,
  seconds: number,
  clients: number,
): Promise<PgbenchResult | { unavailable: string }> {
  if (serverUrl === null)
    return { unavailable: 'no PostgreSQL server given (--database-url or DATABASE_URL)' };
  if (spawnSync('pgbench', ['--version'], { stdio: 'ignore' }).status !== 0)
    return {
      unavailable: 'pgbench is not installed (apt-get install postgresql-client or postgresql-contrib)',
    };
  const name = 'c2c_bench_pgbench';
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const setup = new pg.Client({ connectionString: url.toString() });
  await setup.connect();
  try {
    await setup.query(SETUP);
  } finally {
    await setup.end();
  }
  mkdirSync(join(BENCH_DIR, 'run'), { recursive: true });
  const script = join(BENCH_DIR, 'run', 'amendment.pgbench.sql');
  writeFileSync(script, SCRIPT);
  const run = spawnSync(
    'pgbench',
    [
      '-n',
      '-c',
      String(clients),
      '-j',
      String(Math.min(clients, 2)),
      '-T',
      String(seconds),
      '-f',
      script,
      url.toString(),
    ],
    { encoding: 'utf8' },
  );
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(run.stdout)?.[1];
  if (run.status !== 0 || !tps)
    return { unavailable: `pgbench failed: ${(run.stderr || run.stdout).slice(0, 300)}` };
  const latency = /latency average = ([\d.]+) ms/.exec(run.stdout)?.[1];
  return {
    transactionsPerSecond: round(Number(tps), 1),
    clients,
    seconds,
    latencyAverageMs: latency ? Number(latency) : null,
  };
}

export async function runWrites(options: {
  quick: boolean;
  store: StoreSpec;
  serverUrl: string | null;
  log: (line: string) => void;
}): Promise<WritesReport> {
  const seconds = options.quick ? 10 : 60;
  const concurrency = writeAgents();
  options.log('writes: amendments end to end…');
  const subgraphs = await spawnChild({
    name: 'subgraphs',
    core: 1,
    command: tsxCommand('subgraphs.child.ts'),
    env: { BENCH_STORE: JSON.stringify(options.store), BENCH_EVENTS: 'true', ...secretsEnv() },
    ready: { ipc: true },
  });
  let result: Omit<WritesReport, 'store' | 'postgresFloor'>;
  try {
    const urls = JSON.parse(subgraphs.url) as Record<string, string>;
    const gateway = await spawnChild({
      name: 'our gateway',
      core: 0,
      command: tsxCommand('ours.child.ts'),
      env: await ourGatewayEnv(urls),
      ready: { ipc: true },
    });
    try {
      const runSql: SqlRunner = (text) => subgraphs.request({ type: 'sql', text });
      const token = await benchToken('support');
      const peak = await amend(gateway.url, runSql, seconds, concurrency, token);
      result = {
        ...peak,
        atEightyPercent: await atEightyPercent(
          gateway.url,
          runSql,
          peak.amendmentsPerSecond,
          options.quick,
          token,
          options.log,
        ),
      };
    } finally {
      await gateway.stop();
    }
  } finally {
    await subgraphs.stop();
  }
  options.log('writes: PostgreSQL floor (pgbench)…');
  const postgresFloor = await pgbenchFloor(options.serverUrl, options.quick ? 10 : 30, concurrency);
  return {
    store: options.store.kind === 'pglite' ? 'embedded (PGlite)' : 'PostgreSQL (in-database bus)',
    ...result,
    postgresFloor,
  };
}

export type ClusterWritesReport = Omit<WritesReport, 'postgresFloor'> & {
  replicas: number;
  /**
   * CPU ms per completed amendment while the agents ran, per part of the system (from /proc): each
   * service's replicas together, each service's PostgreSQL backends, the NATS server, and the bench
   * process (agents, the watcher and the cluster's round-robin proxies).
   */
  cpuMsPerAmendment: Record<string, number>;
  /** PostgreSQL transactions (commits and rollbacks, all services) per completed amendment. */
  transactionsPerAmendment: number;
  /**
   * SQL statements the subgraph replicas executed (`c2c_sql_statements_total`, transaction control
   * not included) per completed amendment, in all and per service.
   */
  statementsPerAmendment: Record<string, number>;
};

/** Per subgraph, the SQL statements its replicas have executed so far (their GET /metrics). */
async function statementCounts(
  processes: { name: string; port: number; running(): boolean }[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const entry of processes) {
    if (entry.name === 'gateway' || !entry.running()) continue;
    const text = await fetch(`http://127.0.0.1:${entry.port}/metrics`).then((r) => r.text());
    const value = /^c2c_sql_statements_total(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+?\d+)?)$/m.exec(text)?.[1];
    counts.set(entry.name, (counts.get(entry.name) ?? 0) + Number(value ?? 0));
  }
  return counts;
}

/**
 * Amendments end to end on the scaled-out shape: `npm run start:cluster`'s processes (built
 * JavaScript, 2 replicas of each service behind round-robin proxies) on a fresh database of the
 * PostgreSQL server and the NATS server given, seeded through the gateway, then the same agents.
 */
export async function runClusterWrites(options: {
  quick: boolean;
  serverUrl: string | null;
  natsUrl: string | null;
  log: (line: string) => void;
}): Promise<ClusterWritesReport | { unavailable: string }> {
  if (!options.serverUrl || !options.natsUrl)
    return { unavailable: 'needs a PostgreSQL server (--database-url) and NATS_URL' };
  const { mintDevToken } = await import('@c2c/platform/auth');
  const { todayUtc } = await import('@c2c/platform/core');
  const { seedDemoBook } = await import('@c2c/apps/seed');
  const agents = writeAgents();
  return withBenchCluster(
    {
      serverUrl: options.serverUrl,
      natsUrl: options.natsUrl,
      section: 'writes',
      benchLabel: 'bench (agents, watcher, proxies)',
      log: options.log,
    },
    async ({ cluster, pool, dataDir, replicas, classify }) => {
      const token = await mintDevToken(dataDir, { role: 'admin', subject: 'bench-seed' });
      await seedDemoBook({
        gatewayUrl: cluster.gatewayUrl,
        customers: Math.max(options.quick ? 20 : 60, agents),
        today: todayUtc(),
        headers: { authorization: `Bearer ${token}` },
      });
      const support = await mintDevToken(dataDir, { role: 'support', subject: 'bench-support' });
      const runSql: SqlRunner = async (text) => ({ rows: (await pool.query(text)).rows });
      // PostgreSQL's statistics lag a running session by up to a second: read them settled.
      const transactions = async () => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const { rows } = await pool.query<{ n: string }>(
          'select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()',
        );
        return Number(rows[0]?.n ?? 0);
      };
      const transactionsBefore = await transactions();
      const statementsBefore = await statementCounts(cluster.processes);
      const before = cpuSnapshot(classify);
      const result = await amend(cluster.gatewayUrl, runSql, options.quick ? 10 : 60, agents, support);
      const cpuMsPerAmendment = cpuPerUnit(before, cpuSnapshot(classify), result.amendments);
      // Less the watcher's own status queries (each a transaction of its own).
      const transactionsPerAmendment =
        Math.round(
          (((await transactions()) - transactionsBefore - result.watcherQueries) / result.amendments) * 10,
        ) / 10;
      const statementsAfter = await statementCounts(cluster.processes);
      const statementsPerAmendment: Record<string, number> = {};
      let statements = 0;
      for (const [service, count] of statementsAfter) {
        const spent = count - (statementsBefore.get(service) ?? 0);
        statements += spent;
        statementsPerAmendment[service] = round(spent / result.amendments, 1);
      }
      statementsPerAmendment.total = round(statements / result.amendments, 1);
      // After the counters above, which are the peak run's alone.
      const eighty = await atEightyPercent(
        cluster.gatewayUrl,
        runSql,
        result.amendmentsPerSecond,
        options.quick,
        support,
        options.log,
      );
      return {
        store: 'PostgreSQL + NATS JetStream (cluster)',
        replicas,
        ...result,
        atEightyPercent: eighty,
        cpuMsPerAmendment,
        transactionsPerAmendment,
        statementsPerAmendment,
      };
    },
  );
}

/** How many support agents amend at once (BENCH_WRITE_AGENTS, default 16). */
function writeAgents(): number {
  const given = Number(process.env.BENCH_WRITE_AGENTS ?? 16);
  return Number.isInteger(given) && given >= 1 && given <= 512 ? given : 16;
}
