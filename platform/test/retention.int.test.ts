import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseTransport } from '../src/events/database-transport.ts';
import type { Database } from '../src/db/db.ts';
import type { CloudEvent } from '../src/events/events.ts';
import { silentLogger } from '../src/core/logger.ts';
import { migrate } from '../src/db/migrations.ts';
import {
  DEFAULT_RETENTION,
  pruneBus,
  pruneSchema,
  RetentionEnv,
  retentionProblems,
  startRetentionJob,
} from '../src/subgraph/retention.ts';
import { Signals } from '../src/core/signals.ts';
import { openTestDatabase } from '../src/testing/harness.ts';

const NOW = new Date('2026-06-30T12:00:00Z');
const ago = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000).toISOString();

describe('retention', () => {
  let database: Database;
  const schema = `ret_${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    database = await openTestDatabase();
    await migrate(database.db, schema, mkdtempSync(join(tmpdir(), 'c2c-mig-')));
  });
  afterAll(() => database.close());

  async function count(table: string): Promise<number> {
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from ${sql.id(schema, table)}`.execute(database.db);
    return rows[0]!.n;
  }

  it('prunes only what the policy lets go: old keys, published outbox rows, inbox rows without a dead letter, old audit rows', async () => {
    const db = database.db;
    const key = (k: string, at: string) =>
      sql`insert into ${sql.id(schema, 'idempotency_key')} (scope, key, operation, request_hash, state, response, created_at)
          values ('u', ${k}, 'op', 'h', 'done', '{}', ${at})`.execute(db);
    await key('fresh', ago(47));
    await key('old', ago(49));
    const outbox = (published: string | null, at: string) =>
      sql`insert into ${sql.id(schema, 'outbox')} (id, type, source, subject, time, data, correlation_id, published_at)
          values (${randomUUID()}, 't', 's', 'x', ${at}, '{}', 'c', ${published})`.execute(db);
    await outbox(ago(24 * 8), ago(24 * 8)); // published 8 days ago: pruned
    await outbox(ago(24 * 6), ago(24 * 6)); // published 6 days ago: kept
    await outbox(null, ago(24 * 30)); // never published: kept, however old
    const inbox = (consumer: string, eventId: string, at: string) =>
      sql`insert into ${sql.id(schema, 'inbox')} (consumer, event_id, event_type, processed_at)
          values (${consumer}, ${eventId}, 't', ${at})`.execute(db);
    const deadEvent = randomUUID();
    await inbox('c.a', randomUUID(), ago(24 * 31)); // pruned
    await inbox('c.a', randomUUID(), ago(24 * 29)); // kept
    await inbox('c.a', deadEvent, ago(24 * 60)); // kept: a dead letter of this event still needs it
    await sql`insert into ${sql.id(schema, 'dead_letter')} (consumer, event_id, event_type, subject, event, error, attempts)
              values ('c.a', ${deadEvent}, 't', 'x', '{}', 'boom', 5)`.execute(db);
    const audit = (at: string) =>
      sql`insert into ${sql.id(schema, 'audit_log')} (at, principal, operation, fields, variables, result, correlation_id, request_id)
          values (${at}, 'p', 'op', '[]', '{}', 'OK', 'c', 'r')`.execute(db);
    await audit(ago(24 * 401));
    await audit(ago(24 * 399));

    const report = await pruneSchema(db, schema, DEFAULT_RETENTION, NOW);
    expect(report).toEqual({ idempotencyKeys: 1, outbox: 1, inbox: 1, auditLog: 1 });
    expect(await count('idempotency_key')).toBe(1);
    expect(await count('outbox')).toBe(2);
    expect(await count('inbox')).toBe(2);
    expect(await count('audit_log')).toBe(1);
    // A second run finds nothing more.
    expect(await pruneSchema(db, schema, DEFAULT_RETENTION, NOW)).toEqual({
      idempotencyKeys: 0,
      outbox: 0,
      inbox: 0,
      auditLog: 0,
    });
  });

  it('prunes bus messages whose every delivery is done, and keeps pending and dead ones', async () => {
    const transport = new DatabaseTransport({ db: database.db, signals: new Signals(), log: silentLogger() });
    const type = `ret.${randomUUID().slice(0, 8)}`;
    await transport.declare(`${schema}.reader`, [type]);
    const event = (): CloudEvent => ({
      specversion: '1.0',
      id: randomUUID(),
      source: schema,
      type,
      subject: randomUUID(),
      time: NOW.toISOString(),
      datacontenttype: 'application/json',
      data: {},
      correlationid: 'c',
    });
    const [done, pending, dead] = [event(), event(), event()];
    await transport.publish([done, pending, dead]);
    const seqOf = async (id: string) =>
      (await sql<{ seq: number }>`select seq from bus.message where id = ${id}`.execute(database.db)).rows[0]!
        .seq;
    await sql`update bus.message set published_at = ${ago(24 * 8)} where id in (${done.id}, ${pending.id}, ${dead.id})`.execute(
      database.db,
    );
    await sql`update bus.delivery set state = 'done' where message_seq = ${await seqOf(done.id)}`.execute(
      database.db,
    );
    await sql`update bus.delivery set state = 'dead' where message_seq = ${await seqOf(dead.id)}`.execute(
      database.db,
    );

    const pruned = await pruneBus(database.db, DEFAULT_RETENTION, NOW);
    expect(pruned).toBe(1);
    const left = await sql<{
      id: string;
    }>`select id from bus.message where id in (${done.id}, ${pending.id}, ${dead.id})`.execute(database.db);
    expect(left.rows.map((r) => r.id).sort()).toEqual([pending.id, dead.id].sort());
    await transport.close();
  });

  // Needs two connections: PGlite has one, where the holder and the job would wait on each other.
  it.runIf(Boolean(process.env.DATABASE_URL))('lets one replica prune a schema at a time', async () => {
    const job = startRetentionJob({
      db: database.db,
      schemas: [schema],
      bus: true,
      policy: DEFAULT_RETENTION,
      intervalMs: 0,
      log: silentLogger(),
    });
    // Another replica holds the schema's retention lock while this one runs.
    const report = await database.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`c2c.retention:${schema}`}, 0))`.execute(trx);
      return job.runOnce(NOW);
    });
    expect(report.skipped).toEqual([schema]);
    expect((await job.runOnce(NOW)).skipped).toEqual([]);
    await job.stop();
  });

  it('refuses a policy that keeps idempotency keys under 24 hours or the audit log shorter than the rest', () => {
    expect(retentionProblems({ ...DEFAULT_RETENTION, idempotencyHours: 12 })).toEqual([
      'idempotency keys must be kept at least 24 hours (RETENTION_IDEMPOTENCY_HOURS ≥ 24)',
    ]);
    expect(retentionProblems({ ...DEFAULT_RETENTION, auditDays: 10 })).toEqual([
      'the audit log is kept longest: RETENTION_AUDIT_DAYS must be at least 30',
    ]);
    const parsed = RetentionEnv.safeParse({ RETENTION_INBOX_DAYS: '3' });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(!parsed.success && parsed.error.issues)).toContain(
      'RETENTION_INBOX_DAYS ≥ RETENTION_BUS_DAYS',
    );
    expect(RetentionEnv.parse({})).toMatchObject({
      RETENTION_IDEMPOTENCY_HOURS: 48,
      RETENTION_AUDIT_DAYS: 400,
    });
  });
});
