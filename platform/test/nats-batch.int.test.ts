import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsumer } from '../src/events/consumer.ts';
import { openDatabase, type Database } from '../src/db/db.ts';
import type { CloudEvent } from '../src/events/events.ts';
import { silentLogger } from '../src/core/logger.ts';
import { migrate } from '../src/db/migrations.ts';
import { NatsTransport, type NatsTransportOptions } from '../src/events/nats-transport.ts';
import { openTestDatabase, waitFor } from '../src/testing/harness.ts';
import type { Subscription } from '../src/events/transport.ts';

// Consumers that apply events in batches on NATS (nats-partition.ts): one replica owns a partition
// at a time (a lease in the consumer's schema) and applies up to NATS_BATCH_MAX events in one
// transaction. Against a real NATS server (NATS_URL); in process on PGlite or PostgreSQL, and, for
// the replica SIGKILLed mid-batch, in child processes on a PostgreSQL server (DATABASE_URL).

const NATS_URL = process.env.NATS_URL;
const DATABASE_URL = process.env.DATABASE_URL;
const RETRY = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 };
const EFFECT_TABLE = `create table effect (
  id bigserial primary key, event_id uuid not null, subject text not null, n int not null,
  replica text, txid bigint not null default txid_current());`;

function anEvent(subject: string, n: number): CloudEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'crm',
    type: 'thing.happened',
    subject,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: { n },
    correlationid: randomUUID(),
  };
}

interface Effect {
  event_id: string;
  subject: string;
  n: number;
  replica: string | null;
  txid: string;
}

/** The effects in the order they were committed per subject (ids grow with each insert). */
async function effects(db: Database['db'], schema: string): Promise<Effect[]> {
  return (
    await sql<Effect>`select event_id, subject, n, replica, txid::text as txid
      from ${sql.table(`${schema}.effect`)} order by id`.execute(db)
  ).rows;
}

/** Every event applied once, and each subject's events in publish order. */
function expectOnceInOrder(rows: Effect[], events: CloudEvent[]): void {
  expect(rows.map((row) => row.event_id).sort()).toEqual(events.map((e) => e.id).sort());
  for (const subject of new Set(events.map((e) => e.subject)))
    expect(
      rows.filter((row) => row.subject === subject).map((row) => row.n),
      `order of ${subject}`,
    ).toEqual(events.filter((e) => e.subject === subject).map((e) => (e.data as { n: number }).n));
}

(NATS_URL ? describe : describe.skip)(
  `consumers in batches on NATS${NATS_URL ? '' : ' (skipped: NATS_URL not set)'}`,
  () => {
    let admin: NatsConnection;
    let jsm: JetStreamManager;
    const prefixes: string[] = [];
    const transports: NatsTransport[] = [];
    let database: Database;
    let schemas = 0;

    beforeAll(async () => {
      admin = await connect({ servers: NATS_URL! });
      jsm = await jetstreamManager(admin);
      database = await openTestDatabase();
    });
    afterAll(async () => {
      for (const transport of transports) await transport.close();
      for await (const name of jsm.streams.names())
        if (prefixes.some((prefix) => name.startsWith(`${prefix}_`))) await jsm.streams.delete(name);
      await admin.close();
      await database?.close();
    });

    const newPrefix = () => {
      const prefix = `C2CB_${randomBytes(4).toString('hex')}`;
      prefixes.push(prefix);
      return prefix;
    };
    const open = async (streamPrefix: string, options: Partial<NatsTransportOptions> = {}) => {
      const transport = await NatsTransport.connect({
        servers: NATS_URL!,
        log: silentLogger(),
        streamPrefix,
        retry: RETRY,
        ackWaitMs: 1000,
        discoverMs: 200,
        batchMax: 16,
        ...options,
      });
      transports.push(transport);
      return transport;
    };
    const newSchema = async (db: Database['db'] = database.db) => {
      const schema = `batch_${(schemas += 1)}_${randomBytes(3).toString('hex')}`;
      const migrations = mkdtempSync(join(tmpdir(), 'c2c-mig-'));
      writeFileSync(join(migrations, '0001_effect.sql'), EFFECT_TABLE);
      await migrate(db, schema, migrations);
      return schema;
    };
    const consume = (
      transport: NatsTransport,
      schema: string,
      replica: string,
      { fail, delayMs = 0 }: { fail?: (n: number) => boolean; delayMs?: number } = {},
    ) =>
      startConsumer({
        db: database.db,
        schema,
        consumer: `${schema}.effects`,
        transport,
        log: silentLogger(),
        leaseMs: 3000,
        handlers: {
          'thing.happened': async (trx, event) => {
            const n = (event.data as { n: number }).n;
            if (fail?.(n)) throw new Error(`cannot apply ${n}`);
            if (delayMs) await sleep(delayMs);
            await trx
              .withSchema(schema)
              .insertInto('effect')
              .values({ event_id: event.id, subject: event.subject, n, replica })
              .execute();
          },
        },
      });

    it('two replicas share the partitions and apply many events per transaction, once each and in order per subject; a poison event is dead-lettered in its place', async () => {
      const prefix = newPrefix();
      const schema = await newSchema();
      const replicas = [await open(prefix, { partitions: 4 }), await open(prefix, { partitions: 4 })];
      const subjects = Array.from({ length: 8 }, () => randomUUID());
      const events = Array.from({ length: 400 }, (_, i) => anEvent(subjects[i % subjects.length]!, i));
      // One event that can never be applied, in the middle of its subject.
      const poisonAt = 203;
      const subscriptions: Subscription[] = [];
      for (const [i, transport] of replicas.entries())
        subscriptions.push(await consume(transport, schema, `r${i}`, { fail: (n) => n === poisonAt }));
      // The first event creates the stream; the replicas then share its four partitions out, two each.
      await replicas[0]!.publish(events.slice(0, 1));
      await waitFor(
        async () => {
          const { rows } = await sql<{ holder: string; n: number }>`
            select holder, count(*)::int as n from ${sql.table(`${schema}.lease`)}
            where name like 'events/%' and expires_at > now() group by holder`.execute(database.db);
          return rows.length === 2 && rows.every((row) => row.n === 2);
        },
        30_000,
        'the partitions shared out, two each',
      );
      await replicas[0]!.publish(events.slice(0, 250));
      await replicas[1]!.publish(events.slice(150)); // a hundred re-published (the broker drops them)
      const applied = events.filter((_, i) => i !== poisonAt);
      await waitFor(
        async () => (await effects(database.db, schema)).length >= applied.length,
        60_000,
        'every event applied',
      );
      const dead = await waitFor(
        async () => {
          const rows = await database.db.withSchema(schema).selectFrom('dead_letter').selectAll().execute();
          return rows.length > 0 && rows;
        },
        30_000,
        'the dead letter',
      );
      await sleep(1500); // past the ack wait: nothing applied comes again
      const rows = await effects(database.db, schema);
      expectOnceInOrder(rows, applied);
      expect(dead.map((row) => row.event_id)).toEqual([events[poisonAt]!.id]);
      expect(dead[0]).toMatchObject({ attempts: RETRY.maxAttempts });
      // Batches: far fewer transactions than events.
      const transactions = new Set(rows.map((row) => row.txid)).size;
      expect(transactions).toBeLessThan(applied.length / 4);
      // Both replicas applied events of their partitions.
      expect(new Set(rows.map((row) => row.replica))).toEqual(new Set(['r0', 'r1']));
      const leases = await sql<{ holder: string }>`
        select holder from ${sql.table(`${schema}.lease`)} where name like 'events/%'`.execute(database.db);
      expect(leases.rows).toHaveLength(4);
      for (const subscription of subscriptions) await subscription.stop();
      // Stopping hands the leases back.
      const left = await sql<{ n: number }>`
        select count(*)::int as n from ${sql.table(`${schema}.lease`)} where name like 'events/%'`.execute(
        database.db,
      );
      expect(left.rows[0]?.n).toBe(0);
    });

    it('a replica that stops mid-stream hands its partitions over at once: nothing lost, nothing twice, order kept', async () => {
      const prefix = newPrefix();
      const schema = await newSchema();
      // What B logs as it takes partitions: released by A, so free ('new'), not taken over from a
      // holder that may have died (which would make B wait out the deliveries' ack wait).
      const lines: { msg?: string; claim?: string }[] = [];
      const recorder = pino(
        { level: 'info' },
        { write: (line: string) => void lines.push(JSON.parse(line)) },
      );
      const [a, b] = [
        await open(prefix, { partitions: 2 }),
        await open(prefix, { partitions: 2, log: recorder }),
      ];
      const subjects = Array.from({ length: 4 }, () => randomUUID());
      const events = Array.from({ length: 600 }, (_, i) => anEvent(subjects[i % subjects.length]!, i));
      const subscriptionA = await consume(a, schema, 'a', { delayMs: 2 });
      await a.publish(events);
      await waitFor(async () => (await effects(database.db, schema)).length >= 40, 30_000, 'A under way');
      await subscriptionA.stop();
      expect((await effects(database.db, schema)).length).toBeLessThan(events.length);
      const subscriptionB = await consume(b, schema, 'b');
      await waitFor(
        async () => (await effects(database.db, schema)).length >= events.length,
        30_000,
        'B finishing',
      );
      const taken = lines.filter((line) => line.msg === 'partition lease taken');
      expect(taken.map((line) => line.claim)).toEqual(['new', 'new']);
      await sleep(1500);
      expectOnceInOrder(await effects(database.db, schema), events);
      await subscriptionB.stop();
    });

    (DATABASE_URL ? describe : describe.skip)(
      `replicas in processes of their own on PostgreSQL${DATABASE_URL ? '' : ' (skipped: DATABASE_URL not set)'}`,
      () => {
        const children: ChildProcess[] = [];
        afterAll(() => {
          for (const child of children)
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        });

        /** Starts a replica process; resolves once it has subscribed. */
        const replica = (
          url: string,
          prefix: string,
          schema: string,
          name: string,
          env: Record<string, string> = {},
        ) =>
          new Promise<ChildProcess>((resolve, reject) => {
            const child = spawn(
              process.execPath,
              [
                '--import',
                'tsx',
                join(import.meta.dirname, 'nats-batch-replica.ts'),
                url,
                NATS_URL!,
                prefix,
                schema,
                name,
              ],
              { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
            );
            children.push(child);
            child.stdout!.on('data', (chunk: Buffer) => {
              if (chunk.toString().includes('ready')) resolve(child);
            });
            child.once('exit', (code, signal) =>
              reject(new Error(`replica ${name} exited (${code ?? signal}) before it was ready`)),
            );
          });

        it('a replica SIGKILLed in the middle of a batch, holding partition leases: the other takes over; every event applied once, in order per subject', async () => {
          const prefix = newPrefix();
          // A database of its own on the server, shared by the replica processes.
          const name = `c2c_batch_${randomBytes(5).toString('hex')}`;
          const admin = new pg.Client({ connectionString: DATABASE_URL });
          await admin.connect();
          await admin.query(`create database ${name}`);
          const target = new URL(DATABASE_URL!);
          target.pathname = `/${name}`;
          const db = await openDatabase({ kind: 'postgres', url: target.toString(), poolSize: 2 });
          try {
            const schema = await newSchema(db.db);
            const publisher = await open(prefix, { partitions: 4 });
            const subjects = Array.from({ length: 12 }, () => randomUUID());
            const events = Array.from({ length: 600 }, (_, i) => anEvent(subjects[i % subjects.length]!, i));
            await publisher.publish(events.slice(0, 1)); // creates the stream
            // A holds every partition before anything is published; its first batch of several
            // events kills it half-way through, uncommitted.
            const a = await replica(target.toString(), prefix, schema, 'a', {
              C2C_FAULT_POINT: 'consumer.mid-batch',
            });
            const exited = new Promise<NodeJS.Signals | null>((resolve) =>
              a.once('exit', (_code, signal) => resolve(signal)),
            );
            await waitFor(
              async () =>
                (
                  await sql<{ n: number }>`select count(*)::int as n from ${sql.table(`${schema}.lease`)}
                    where name like 'events/%' and expires_at > now()`.execute(db.db)
                ).rows[0]?.n === 4,
              30_000,
              'A holding the four partitions',
            );
            await publisher.publish(events.slice(1));
            expect(await exited).toBe('SIGKILL');
            // Nothing of the batch it died in was committed, and it held its leases when it died.
            const holders = await sql<{ live: boolean }>`
              select expires_at > now() as live from ${sql.table(`${schema}.lease`)} where name like 'events/%'`.execute(
              db.db,
            );
            expect(holders.rows.some((row) => row.live)).toBe(true);
            const b = await replica(target.toString(), prefix, schema, 'b');
            await waitFor(
              async () => (await effects(db.db, schema)).length >= events.length,
              90_000,
              'B applying the rest',
            );
            await sleep(2000); // past the ack wait: nothing comes twice
            const rows = await effects(db.db, schema);
            expectOnceInOrder(rows, events);
            expect(rows.filter((row) => row.replica === 'b').length).toBeGreaterThan(0);
            expect(new Set(rows.map((row) => row.txid)).size).toBeLessThan(events.length / 4);
            b.kill('SIGTERM');
            await new Promise((resolve) => b.once('exit', resolve));
          } finally {
            await db.close();
            await admin.query(`drop database if exists ${name} with (force)`);
            await admin.end();
          }
        }, 150_000);
      },
    );
  },
);
