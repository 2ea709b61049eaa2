import { sql } from 'kysely';
import type { Logger } from 'pino';
import { z } from '../core/config.ts';
import type { AnyDb } from '../db/db.ts';

/**
 * How long the platform's bookkeeping rows are kept. Business data (customers, invoices, journal
 * entries, …) is never pruned; these are the rows that only make delivery exactly-once and
 * mutations replayable, plus the audit log.
 */
export interface RetentionPolicy {
  /** Idempotency keys and their stored answers; at least 24 hours (a client may retry for a day). */
  idempotencyHours: number;
  /** Outbox rows already published to the backbone. */
  outboxDays: number;
  /**
   * Inbox rows `(consumer, event id)`: while a row exists a redelivery of that event is a no-op, so
   * this must exceed the longest time an event can still be redelivered (NATS: the stream's
   * redelivery and replay window; the database bus: its own retention below).
   */
  inboxDays: number;
  /** The embedded bus's delivered messages (and their `done` deliveries); dead ones are kept. */
  busDays: number;
  /** The audit log of mutations: kept longest. */
  auditDays: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = {
  idempotencyHours: 48,
  outboxDays: 7,
  inboxDays: 30,
  busDays: 7,
  auditDays: 400,
};

/** Rows deleted per statement, so a large backlog is pruned in short transactions. */
const CHUNK = 5_000;

/** The policy's own rules; returns the problems (empty when it is sound). */
export function retentionProblems(policy: RetentionPolicy): string[] {
  const problems: string[] = [];
  if (policy.idempotencyHours < 24)
    problems.push('idempotency keys must be kept at least 24 hours (RETENTION_IDEMPOTENCY_HOURS ≥ 24)');
  if (policy.inboxDays < policy.busDays)
    problems.push(
      'inbox rows must outlive the bus messages that could be redelivered (RETENTION_INBOX_DAYS ≥ RETENTION_BUS_DAYS)',
    );
  const longest = Math.max(policy.outboxDays, policy.inboxDays, policy.busDays, policy.idempotencyHours / 24);
  if (policy.auditDays < longest)
    problems.push(`the audit log is kept longest: RETENTION_AUDIT_DAYS must be at least ${longest}`);
  return problems;
}

const days = z.coerce.number().int().min(1).max(36_500);

/** The retention variables, shared by every process that runs the job (docs/operations.md). */
export const RetentionEnv = z
  .object({
    RETENTION_IDEMPOTENCY_HOURS: z.coerce
      .number()
      .int()
      .min(24)
      .max(876_000)
      .default(DEFAULT_RETENTION.idempotencyHours),
    RETENTION_OUTBOX_DAYS: days.default(DEFAULT_RETENTION.outboxDays),
    RETENTION_INBOX_DAYS: days.default(DEFAULT_RETENTION.inboxDays),
    RETENTION_BUS_DAYS: days.default(DEFAULT_RETENTION.busDays),
    RETENTION_AUDIT_DAYS: days.default(DEFAULT_RETENTION.auditDays),
    /** Seconds between runs; 0 switches the job off in this process. */
    RETENTION_INTERVAL_S: z.coerce.number().int().min(0).max(604_800).default(3_600),
  })
  .superRefine((env, ctx) => {
    for (const message of retentionProblems(policyFromEnv(env))) ctx.addIssue({ code: 'custom', message });
  });

export function policyFromEnv(env: {
  RETENTION_IDEMPOTENCY_HOURS: number;
  RETENTION_OUTBOX_DAYS: number;
  RETENTION_INBOX_DAYS: number;
  RETENTION_BUS_DAYS: number;
  RETENTION_AUDIT_DAYS: number;
}): RetentionPolicy {
  return {
    idempotencyHours: env.RETENTION_IDEMPOTENCY_HOURS,
    outboxDays: env.RETENTION_OUTBOX_DAYS,
    inboxDays: env.RETENTION_INBOX_DAYS,
    busDays: env.RETENTION_BUS_DAYS,
    auditDays: env.RETENTION_AUDIT_DAYS,
  };
}

/** Rows deleted by one run, per table. */
export interface PruneReport {
  idempotencyKeys: number;
  outbox: number;
  inbox: number;
  auditLog: number;
  busMessages: number;
}

/** Deletes `where` rows of `table` in chunks; returns how many. */
async function deleteInChunks(db: AnyDb, table: ReturnType<typeof sql.id>, where: ReturnType<typeof sql>) {
  let total = 0;
  for (;;) {
    const result =
      await sql`delete from ${table} where ctid in (select ctid from ${table} where ${where} limit ${CHUNK})`.execute(
        db,
      );
    const n = Number(result.numAffectedRows ?? 0);
    total += n;
    if (n < CHUNK) return total;
  }
}

/**
 * Prunes one subgraph schema's bookkeeping rows older than the policy allows, as of `now`.
 * Never touches what is still needed: unpublished outbox rows, and inbox rows of events that have a
 * dead letter (a replay must find out whether a late delivery applied it after all).
 */
export async function pruneSchema(
  db: AnyDb,
  schema: string,
  policy: RetentionPolicy,
  now: Date = new Date(),
): Promise<Omit<PruneReport, 'busMessages'>> {
  const before = (hours: number) => new Date(now.getTime() - hours * 3_600_000).toISOString();
  const idempotencyKeys = await deleteInChunks(
    db,
    sql.id(schema, 'idempotency_key'),
    sql`created_at < ${before(policy.idempotencyHours)}`,
  );
  const outbox = await deleteInChunks(
    db,
    sql.id(schema, 'outbox'),
    sql`published_at is not null and published_at < ${before(policy.outboxDays * 24)}`,
  );
  const inbox = await deleteInChunks(
    db,
    sql.id(schema, 'inbox'),
    sql`processed_at < ${before(policy.inboxDays * 24)} and not exists (
      select 1 from ${sql.id(schema, 'dead_letter')} d where d.consumer = inbox.consumer and d.event_id = inbox.event_id)`,
  );
  const auditLog = await deleteInChunks(
    db,
    sql.id(schema, 'audit_log'),
    sql`at < ${before(policy.auditDays * 24)}`,
  );
  return { idempotencyKeys, outbox, inbox, auditLog };
}

/**
 * Prunes the embedded bus: messages older than the policy whose every delivery is done (a pending
 * or dead delivery keeps its message). A consumer declared later no longer receives them.
 */
export async function pruneBus(db: AnyDb, policy: RetentionPolicy, now: Date = new Date()): Promise<number> {
  const exists = await sql<{
    found: boolean;
  }>`select to_regclass('bus.message') is not null as found`.execute(db);
  if (!exists.rows[0]?.found) return 0;
  const cutoff = new Date(now.getTime() - policy.busDays * 86_400_000).toISOString();
  let total = 0;
  for (;;) {
    const { rows } = await sql<{ seq: string }>`
      select m.seq from bus.message m
      where m.published_at < ${cutoff}
        and not exists (select 1 from bus.delivery d where d.message_seq = m.seq and d.state <> 'done')
      order by m.seq limit ${CHUNK}`.execute(db);
    if (rows.length === 0) return total;
    const seqs = rows.map((r) => r.seq);
    await sql`delete from bus.delivery where message_seq = any(${seqs}::bigint[]) and state = 'done'`.execute(
      db,
    );
    // A delivery declared meanwhile (a new consumer catching up) keeps its message.
    const deleted = await sql`delete from bus.message m where m.seq = any(${seqs}::bigint[])
      and not exists (select 1 from bus.delivery d where d.message_seq = m.seq)`.execute(db);
    total += Number(deleted.numAffectedRows ?? 0);
    if (rows.length < CHUNK) return total;
  }
}

export interface RetentionJobOptions {
  db: AnyDb;
  /** The subgraph schemas this process prunes. */
  schemas: readonly string[];
  /** Also prune the embedded bus (the database transport's `bus` schema). */
  bus: boolean;
  policy: RetentionPolicy;
  intervalMs: number;
  log: Logger;
}

export interface RetentionJob {
  /**
   * One run now. Each schema (and the bus) is pruned in a transaction of its own under an advisory
   * lock, so replicas take turns: a unit whose lock is held elsewhere is skipped this time.
   */
  runOnce(now?: Date): Promise<PruneReport & { skipped: string[] }>;
  stop(): Promise<void>;
}

/** Runs `work` in a transaction holding the advisory lock `key`, or returns 'busy' when another holds it. */
async function underLock<T>(db: AnyDb, key: string, work: (trx: AnyDb) => Promise<T>): Promise<T | 'busy'> {
  return db.transaction().execute(async (trx) => {
    const lock = await sql<{
      ok: boolean;
    }>`select pg_try_advisory_xact_lock(hashtextextended(${key}, 0)) as ok`.execute(trx);
    return lock.rows[0]?.ok ? work(trx) : ('busy' as const);
  });
}

/** Runs the retention policy every `intervalMs` (0: only when `runOnce` is called). */
export function startRetentionJob(options: RetentionJobOptions): RetentionJob {
  const { db, log, policy } = options;
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const runOnce = async (now = new Date()) => {
    const report = {
      idempotencyKeys: 0,
      outbox: 0,
      inbox: 0,
      auditLog: 0,
      busMessages: 0,
      skipped: [] as string[],
    };
    for (const schema of options.schemas) {
      const pruned = await underLock(db, `c2c.retention:${schema}`, (trx) =>
        pruneSchema(trx, schema, policy, now),
      );
      if (pruned === 'busy') {
        report.skipped.push(schema);
        continue;
      }
      report.idempotencyKeys += pruned.idempotencyKeys;
      report.outbox += pruned.outbox;
      report.inbox += pruned.inbox;
      report.auditLog += pruned.auditLog;
    }
    if (options.bus) {
      const pruned = await underLock(db, 'c2c.retention:bus', (trx) => pruneBus(trx, policy, now));
      if (pruned === 'busy') report.skipped.push('bus');
      else report.busMessages = pruned;
    }
    return report;
  };

  const tick = () => {
    running = runOnce()
      .then(({ skipped, ...counts }) => {
        if (Object.values(counts).some((n) => n > 0))
          log.info({ pruned: counts, skipped, policy }, 'retention: old bookkeeping rows pruned');
      })
      .catch((error: unknown) => log.warn({ err: error }, 'retention run failed; the next run tries again'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.intervalMs).unref();
      });
  };
  // The first run a minute after start (or sooner with a short interval), not during start-up.
  if (options.intervalMs > 0) timer = setTimeout(tick, Math.min(options.intervalMs, 60_000)).unref();

  return {
    runOnce,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      if (timer) clearTimeout(timer);
    },
  };
}
