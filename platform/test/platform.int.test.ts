import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/db.ts';
import { DatabaseTransport } from '../src/events/database-transport.ts';
import { requestHash, runIdempotent } from '../src/graphql/idempotency.ts';
import { sql } from 'kysely';
import { startConsumer } from '../src/events/consumer.ts';
import { deadLetterResolvers, listDeadLetters, replayDeadLetters } from '../src/events/dead-letters.ts';
import type { AnyDb } from '../src/db/db.ts';
import { migrate } from '../src/db/migrations.ts';
import { silentLogger } from '../src/core/logger.ts';
import { Signals } from '../src/core/signals.ts';
import type { CloudEvent } from '../src/events/events.ts';
import { openTestDatabase, waitFor } from '../src/testing/harness.ts';

function anEvent(overrides: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'test',
    type: 'thing.happened',
    subject: 'a',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: {},
    correlationid: 'c-1',
    ...overrides,
  };
}

describe('platform on a real database', () => {
  let database: Database;
  const emptyMigrations = mkdtempSync(join(tmpdir(), 'c2c-mig-'));
  beforeAll(async () => {
    database = await openTestDatabase();
    await migrate(database.db, 'plat', emptyMigrations);
  });
  afterAll(() => database.close());

  it('returns date columns as YYYY-MM-DD strings and bigint as numbers, on either driver', async () => {
    const { rows } = await sql<{
      d: unknown;
      b: unknown;
    }>`select '2026-01-31'::date as d, 12345678901::bigint as b`.execute(database.db);
    expect(rows).toEqual([{ d: '2026-01-31', b: 12345678901 }]);
    // With a parameter PGlite takes its extended-protocol path, without one its simple path: both parse.
    const withParameter = await sql<{ d: unknown }>`select ${'2024-02-29'}::date as d`.execute(database.db);
    expect(withParameter.rows).toEqual([{ d: '2024-02-29' }]);
  });

  it('dead-letters an event once however often the verdict comes, and never one already applied', async () => {
    // A transport that hands the test its dead-letter callback, as NATS does on a lost `term` or from
    // the max-deliveries safety net.
    let verdict!: (event: CloudEvent, error: string, attempts: number) => Promise<void>;
    const transport = {
      name: 'capture',
      declare: async () => undefined,
      publish: async () => undefined,
      subscribe: async (o: { onDeadLetter: typeof verdict }) => {
        verdict = o.onDeadLetter;
        return { stop: async () => undefined };
      },
      close: async () => undefined,
    };
    let hooks = 0;
    await startConsumer({
      db: database.db,
      schema: 'plat',
      consumer: 'once.consumer',
      handlers: { 'thing.happened': async () => undefined },
      transport: transport as never,
      log: silentLogger(),
      onDeadLetter: async () => {
        hooks += 1;
      },
    });
    const event = anEvent();
    await verdict(event, 'boom', 3);
    await verdict(event, 'boom again', 4);
    const letters = await database.db
      .withSchema('plat')
      .selectFrom('dead_letter')
      .selectAll()
      .where('event_id', '=', event.id)
      .execute();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ error: 'boom again', attempts: 4 });
    expect(hooks).toBe(1);
    // An event the consumer did apply (its inbox row exists) is never dead-lettered by a late verdict.
    const applied = anEvent();
    await database.db
      .withSchema('plat')
      .insertInto('inbox')
      .values({ consumer: 'once.consumer', event_id: applied.id, event_type: applied.type })
      .execute();
    await verdict(applied, 'late', 5);
    expect(
      await database.db
        .withSchema('plat')
        .selectFrom('dead_letter')
        .select('id')
        .where('event_id', '=', applied.id)
        .execute(),
    ).toEqual([]);
    expect(hooks).toBe(1);
  });

  it('applies migrations once', async () => {
    const again = await migrate(database.db, 'plat', emptyMigrations);
    expect(again.applied).toEqual([]);
  });

  it('idempotency: same key and input replays, another input is refused, a failure keeps nothing', async () => {
    let runs = 0;
    const request = { scope: 'alice', key: 'k-1', operation: 'op', input: { a: 1, b: [1, 2] } };
    const first = await runIdempotent(database.db, 'plat', request, async () => ({ n: ++runs }));
    const second = await runIdempotent(
      database.db,
      'plat',
      { ...request, input: { b: [1, 2], a: 1 } },
      async () => ({ n: ++runs }),
    );
    expect(first).toEqual({ value: { n: 1 }, replayed: false });
    expect(second).toEqual({ value: { n: 1 }, replayed: true });
    await expect(
      runIdempotent(database.db, 'plat', { ...request, input: { a: 2 } }, async () => ++runs),
    ).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    // Another caller has its own key space.
    const bob = await runIdempotent(database.db, 'plat', { ...request, scope: 'bob' }, async () => ({
      n: ++runs,
    }));
    expect(bob.replayed).toBe(false);
    // A failing request releases its key: the same key may run again.
    await expect(
      runIdempotent(database.db, 'plat', { ...request, key: 'k-fail' }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const retried = await runIdempotent(database.db, 'plat', { ...request, key: 'k-fail' }, async () => 'ok');
    expect(retried).toEqual({ value: 'ok', replayed: false });
  });

  it('idempotency: a key held by a live request answers IDEMPOTENCY_KEY_IN_USE; a crashed holder is taken over at once', async () => {
    const request = { scope: 'alice', key: 'k-slow', operation: 'op', input: { x: 1 } };
    // What a holder that crashed mid-request leaves: its claim, no lock (its session is gone).
    await database.db
      .withSchema('plat')
      .insertInto('idempotency_key')
      .values({
        scope: 'alice',
        key: 'k-crashed',
        operation: 'op',
        request_hash: requestHash('op', request.input),
        state: 'running',
      })
      .execute();
    expect(await runIdempotent(database.db, 'plat', { ...request, key: 'k-crashed' }, async () => 3)).toEqual(
      {
        value: 3,
        replayed: false,
      },
    );

    if (database.kind === 'postgres') {
      // A live holder: another session holds the key's lock while its work runs.
      let release!: () => void;
      const holding = new Promise<void>((resolve) => (release = resolve));
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const holder = runIdempotent(database.db, 'plat', request, async () => {
        started();
        await holding;
        return 1;
      });
      await running;
      await expect(runIdempotent(database.db, 'plat', request, async () => 2)).rejects.toMatchObject({
        code: 'IDEMPOTENCY_KEY_IN_USE',
      });
      release();
      expect(await holder).toEqual({ value: 1, replayed: false });
      expect(await runIdempotent(database.db, 'plat', request, async () => 2)).toEqual({
        value: 1,
        replayed: true,
      });
    } else {
      // PGlite has one session: requests take turns, so duplicates replay the first answer.
      const answers = await Promise.all(
        [1, 2, 3].map((n) => runIdempotent(database.db, 'plat', request, async () => n)),
      );
      expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
      expect(new Set(answers.map((a) => a.value)).size).toBe(1);
    }
  });

  it.each([false, true])(
    'idempotency (holdInserts %s): a duplicate that stored the key after the lookup is not overwritten: IDEMPOTENCY_KEY_IN_USE, nothing kept',
    async (holdInserts) => {
      const request = { scope: 'alice', key: `k-race-${holdInserts}`, operation: 'op', input: { r: 1 } };
      // The lookup's snapshot predates the lock: a duplicate committing in between is not seen by it.
      // Its row, written here inside the work, stands for that duplicate's committed answer.
      const racing = runIdempotent(
        database.db,
        'plat',
        request,
        async (trx) => {
          await trx
            .withSchema('plat')
            .insertInto('idempotency_key')
            .values({
              scope: request.scope,
              key: request.key,
              operation: 'op',
              request_hash: requestHash('op', request.input),
              state: 'done',
              response: JSON.stringify('first'),
            })
            .execute();
          return 'second';
        },
        { holdInserts },
      );
      await expect(racing).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_USE' });
      expect(
        await database.db
          .withSchema('plat')
          .selectFrom('idempotency_key')
          .select('key')
          .where('key', '=', request.key)
          .execute(),
      ).toEqual([]);
    },
  );

  it('transport: delivers in order per subject, retries with backoff, dead-letters after the last attempt', async () => {
    const signals = new Signals();
    const transport = new DatabaseTransport({
      db: database.db,
      signals,
      log: silentLogger(),
      pollMs: 50,
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
    });
    const seen: string[] = [];
    const dead: { id: string; attempts: number; error: string }[] = [];
    let failures = 0;
    await transport.declare('test.consumer', ['thing.happened']);
    const a1 = anEvent({ subject: 'a', data: { n: 'a1' } });
    const a2 = anEvent({ subject: 'a', data: { n: 'a2' } });
    const poison = anEvent({ subject: 'p', data: { n: 'poison' } });
    const b1 = anEvent({ subject: 'b', data: { n: 'b1' } });
    await transport.publish([a1, a2, poison, b1]);
    await transport.publish([a1]); // a duplicate publish is stored once
    const subscription = await transport.subscribe({
      consumer: 'test.consumer',
      types: ['thing.happened'],
      handler: async (event) => {
        const n = (event.data as { n: string }).n;
        if (n === 'poison') throw new Error('cannot apply');
        if (n === 'a1' && failures++ < 1) throw new Error('transient');
        seen.push(n);
      },
      onDeadLetter: async (event, error, attempts) => {
        dead.push({ id: event.id, attempts, error });
      },
    });
    await waitFor(async () => seen.length === 3 && dead.length === 1, 10_000, 'deliveries');
    await subscription.stop();
    await transport.close();
    // a2 waited for a1's retry; b1 was not held back by subject a or by the poison event.
    expect(seen.indexOf('a1')).toBeLessThan(seen.indexOf('a2'));
    expect(seen.sort()).toEqual(['a1', 'a2', 'b1']);
    expect(dead).toEqual([{ id: poison.id, attempts: 3, error: 'cannot apply' }]);
  });
});

describe('dead letters and replay', () => {
  it('dead-letters a poison event, then replays it after the fix exactly once, however often', async () => {
    const database = await openTestDatabase();
    try {
      await migrate(database.db, 'dl', mkdtempSync(join(tmpdir(), 'c2c-mig-')));
      await sql`create table dl.effect (event_id uuid primary key, n integer not null)`.execute(database.db);
      let broken = true;
      const handlers = {
        'thing.happened': async (trx: AnyDb, event: CloudEvent) => {
          if (broken) throw new Error('downstream rejects it');
          await trx.withSchema('dl').insertInto('effect').values({ event_id: event.id, n: 1 }).execute();
        },
      };
      const signals = new Signals();
      const log = silentLogger();
      const transport = new DatabaseTransport({
        db: database.db,
        signals,
        log,
        pollMs: 50,
        retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
      });
      const subscription = await startConsumer({
        db: database.db,
        schema: 'dl',
        consumer: 'dl.consumer',
        handlers,
        transport,
        log,
      });
      const event = anEvent({ correlationid: 'corr-dl' });
      await transport.publish([event]);
      const [dead] = await waitFor(async () => {
        const letters = await listDeadLetters(database.db, 'dl');
        return letters.length ? letters : undefined;
      });
      expect(dead).toMatchObject({
        consumer: 'dl.consumer',
        eventId: event.id,
        attempts: 2,
        error: 'downstream rejects it',
        correlationId: 'corr-dl',
        replayedAt: null,
      });

      const options = { db: database.db, schema: 'dl', consumers: { 'dl.consumer': handlers }, log };
      expect(await replayDeadLetters(options, [dead!.id])).toEqual([
        { id: dead!.id, ok: false, alreadyApplied: false, error: 'downstream rejects it' },
      ]);
      broken = false;
      expect(await replayDeadLetters(options, [dead!.id])).toEqual([
        { id: dead!.id, ok: true, alreadyApplied: false, error: null },
      ]);
      expect(await replayDeadLetters(options, [dead!.id])).toEqual([
        { id: dead!.id, ok: true, alreadyApplied: true, error: null },
      ]);
      expect(await replayDeadLetters(options, null)).toEqual([]);
      expect(await replayDeadLetters(options, [987654])).toEqual([
        { id: 987654, ok: false, alreadyApplied: false, error: 'no dead letter 987654' },
      ]);
      const effects = await database.db.withSchema('dl').selectFrom('effect').selectAll().execute();
      expect(effects).toHaveLength(1);
      expect(await listDeadLetters(database.db, 'dl')).toEqual([]);
      expect(await listDeadLetters(database.db, 'dl', { includeReplayed: true })).toHaveLength(1);
      const resolvers = deadLetterResolvers({ ...options, queryField: 'dl', mutationField: 'replayDl' });
      const replayDl = resolvers.Mutation.replayDl!;
      for (const args of [
        {},
        { ids: [String(dead!.id)], all: true },
        { ids: [] },
        { ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) },
      ]) {
        expect((await replayDl(null, args)).userErrors).toEqual([
          expect.objectContaining({ code: 'INVALID_REPLAY_SELECTION' }),
        ]);
      }
      expect((await replayDl(null, { ids: ["1' or '1'='1"] })).results).toEqual([
        { id: "1' or '1'='1", ok: false, alreadyApplied: false, error: "no dead letter 1' or '1'='1" },
      ]);
      await expect(resolvers.Query.dl!(null, { first: 0 })).rejects.toMatchObject({
        code: 'INVALID_PAGE_SIZE',
      });
      expect(await resolvers.Query.dl!(null, { includeReplayed: true })).toEqual([
        expect.objectContaining({ id: String(dead!.id), consumer: 'dl.consumer' }),
      ]);
      await subscription.stop();
      await transport.close();
    } finally {
      await database.close();
    }
  });
});

describe('the PGlite data directory', () => {
  it('is refused while another live process holds it, and taken over from a dead one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'c2c-lock-'));
    const lockModule = join(import.meta.dirname, '../src/db/data-dir-lock.ts');
    const holder = spawn(process.execPath, [
      '--import',
      'tsx',
      '-e',
      `import(${JSON.stringify(lockModule)}).then((m) => m.lockDataDir(${JSON.stringify(dir)})).then(() => { console.log('locked'); setTimeout(() => {}, 30000); })`,
    ]);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
        holder.once('exit', () => reject(new Error('the lock holder exited')));
      });
      await expect(openDatabase({ kind: 'pglite', dataDir: dir })).rejects.toThrow(/in use by process/);
    } finally {
      // SIGKILL: no cleanup, its c2c.lock stays behind naming a dead process.
      holder.kill('SIGKILL');
    }
    await new Promise((resolve) => holder.once('exit', resolve));
    const database = await openDatabase({ kind: 'pglite', dataDir: dir });
    await database.close();
  });
});
