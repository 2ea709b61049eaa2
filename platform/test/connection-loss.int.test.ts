import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GraphQLError } from 'graphql';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isConnectionLost } from '../src/core/connection-loss.ts';
import { applyOnce } from '../src/events/consumer.ts';
import type { Database } from '../src/db/db.ts';
import type { CloudEvent } from '../src/events/events.ts';
import { formatError } from '../src/graphql/graphql-server.ts';
import { runIdempotent } from '../src/graphql/idempotency.ts';
import { silentLogger } from '../src/core/logger.ts';
import { migrate } from '../src/db/migrations.ts';
import { openTestDatabase } from '../src/testing/harness.ts';

// Issue 20 (a): PostgreSQL connections killed under a running process (`pg_terminate_backend`,
// what a failover, a proxy restart or an administrator does). Needs a PostgreSQL server
// (DATABASE_URL); PGlite has no connections to lose.

const DATABASE_URL = process.env.DATABASE_URL;

describe('a lost database connection answers a retriable code', () => {
  it('maps 57P01 and a terminated connection to SERVICE_UNAVAILABLE, never INTERNAL_SERVER_ERROR', () => {
    for (const cause of [
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      new Error('Connection terminated unexpectedly'),
      Object.assign(new Error('server closed the connection'), { code: '08006' }),
    ]) {
      const error = new GraphQLError('x', { originalError: cause });
      const formatted = formatError({ message: 'x', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, error);
      expect(formatted.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(formatted.message).toMatch(/retry/);
    }
    expect(isConnectionLost(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
  });
});

describe.skipIf(!DATABASE_URL)('killed PostgreSQL connections (pg_terminate_backend)', () => {
  let database: Database;
  let admin: pg.Client;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    database = await openTestDatabase();
    await migrate(database.db, 'lost', mkdtempSync(join(tmpdir(), 'c2c-mig-')));
    await sql`create table lost.effect (id text primary key)`.execute(database.db);
    const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(database.db);
    const url = new URL(DATABASE_URL as string);
    url.pathname = `/${rows[0]?.name}`;
    admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    process.on('uncaughtException', onUncaught);
  });
  afterEach(() => {
    expect(uncaught, 'no unhandled error event').toEqual([]);
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await admin?.end();
    await database?.close();
  });

  /** Terminates every other session on the test database: the pool's, busy or idle. */
  async function killConnections(): Promise<number> {
    const { rows } = await admin.query<{ n: number }>(
      `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid()`,
    );
    return rows[0]?.n ?? 0;
  }

  it('survives a connection killed while a transaction holds it between statements, and the pool recovers', async () => {
    const failed = await database.db
      .transaction()
      .execute(async (trx) => {
        await sql`select 1`.execute(trx);
        expect(await killConnections()).toBeGreaterThan(0);
        // The server's error arrives while no statement runs: an 'error' event on the checked-out client.
        await sleep(300);
        await sql`select 1`.execute(trx);
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(isConnectionLost(failed), String(failed)).toBe(true);
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.db);
    expect(rows[0]?.one).toBe(1);
  });

  it('survives connections killed while statements run, every time, and keeps serving', async () => {
    for (let round = 0; round < 3; round++) {
      const running = Array.from({ length: 4 }, () =>
        sql`select pg_sleep(0.5)`.execute(database.db).then(
          () => null,
          (error: unknown) => error,
        ),
      );
      await sleep(100);
      await killConnections();
      for (const error of await Promise.all(running)) if (error) expect(isConnectionLost(error)).toBe(true);
    }
    await sleep(100);
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.db);
    expect(rows[0]?.one).toBe(1);
  });

  it('retries idempotent work whose connection was killed, applying it once', async () => {
    let runs = 0;
    const result = await runIdempotent(
      database.db,
      'lost',
      { scope: 'test', key: 'killed-once', operation: 'kill', input: { n: 1 } },
      async (trx) => {
        runs += 1;
        await sql`insert into lost.effect (id) values ('mutation')`.execute(trx);
        if (runs === 1) await sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx);
        return { done: true };
      },
    );
    expect(result).toEqual({ value: { done: true }, replayed: false });
    expect(runs).toBe(2);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from lost.effect`.execute(
      database.db,
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('retries a consumer transaction whose connection was killed, applying the event once', async () => {
    let runs = 0;
    const event = {
      id: randomUUID(),
      type: 'test.happened',
      source: 'test',
      subject: 's1',
      specversion: '1.0',
      time: new Date().toISOString(),
      data: {},
    } as unknown as CloudEvent;
    const options = {
      db: database.db,
      schema: 'lost',
      consumer: 'killer',
      log: silentLogger(),
      handlers: {
        'test.happened': async (trx: typeof database.db) => {
          runs += 1;
          await sql`insert into lost.effect (id) values ('event')`.execute(trx);
          if (runs === 1) await sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx);
        },
      },
    };
    expect(await applyOnce(options, event)).toBe(true);
    expect(runs).toBe(2);
    expect(await applyOnce(options, event)).toBe(false);
  });
});
