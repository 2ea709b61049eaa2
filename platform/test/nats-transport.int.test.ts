import { seededRandom } from '../src/testing/property.ts';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsumer } from '../src/events/consumer.ts';
import type { Database } from '../src/db/db.ts';
import type { CloudEvent } from '../src/events/events.ts';
import { armFaultPoint } from '../src/core/faults.ts';
import { silentLogger } from '../src/core/logger.ts';
import { migrate } from '../src/db/migrations.ts';
import { natsDurableName, NatsTransport, type NatsTransportOptions } from '../src/events/nats-transport.ts';
import { openTestDatabase, waitFor } from '../src/testing/harness.ts';
import type { Subscription } from '../src/events/transport.ts';

const random = seededRandom('nats-transport');

// Against a real NATS server with JetStream (NATS_URL). Every test uses its own stream prefix, so
// files and tests never see each other's streams; afterAll deletes them.

const NATS_URL = process.env.NATS_URL;
const RETRY = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 };

function anEvent(overrides: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'crm',
    type: 'thing.happened',
    subject: randomUUID(),
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: {},
    correlationid: randomUUID(),
    ...overrides,
  };
}

const n = (event: CloudEvent) => (event.data as { n: number }).n;

(NATS_URL ? describe : describe.skip)(
  `NatsTransport on a real server${NATS_URL ? '' : ' (skipped: NATS_URL not set)'}`,
  () => {
    let admin: NatsConnection;
    let jsm: JetStreamManager;
    const prefixes: string[] = [];
    const transports: NatsTransport[] = [];

    beforeAll(async () => {
      admin = await connect({ servers: NATS_URL! });
      jsm = await jetstreamManager(admin);
    });
    afterAll(async () => {
      for (const transport of transports) await transport.close();
      for await (const name of jsm.streams.names()) {
        if (prefixes.some((prefix) => name.startsWith(`${prefix}_`))) await jsm.streams.delete(name);
      }
      await admin.close();
    });

    const newPrefix = () => {
      const prefix = `C2CT_${randomBytes(4).toString('hex')}`;
      prefixes.push(prefix);
      return prefix;
    };
    const open = async (streamPrefix: string, options: Partial<NatsTransportOptions> = {}) => {
      const transport = await NatsTransport.connect({
        servers: NATS_URL!,
        log: silentLogger(),
        streamPrefix,
        retry: RETRY,
        ackWaitMs: 2000,
        discoverMs: 200,
        ...options,
      });
      transports.push(transport);
      return transport;
    };
    const noDeadLetters = async (event: CloudEvent, error: string) => {
      throw new Error(`unexpected dead letter ${event.id}: ${error}`);
    };

    it('publishes and consumes; other types are not handed to the handler', async () => {
      const transport = await open(newPrefix());
      const seen: number[] = [];
      const subscription = await transport.subscribe({
        consumer: 'test.sink',
        types: ['thing.happened'],
        handler: async (event) => void seen.push(n(event)),
        onDeadLetter: noDeadLetters,
      });
      await transport.publish([
        anEvent({ data: { n: 1 } }),
        anEvent({ type: 'other.thing', data: { n: 99 } }),
        anEvent({ data: { n: 2 } }),
        anEvent({ source: 'billing', data: { n: 3 } }),
      ]);
      await waitFor(async () => seen.length === 3, 15_000, 'three deliveries');
      await sleep(300);
      expect(seen.sort()).toEqual([1, 2, 3]);
      await subscription.stop();
    });

    it('hands a consumer only the types it handles: the server filters by their common tokens', async () => {
      const prefix = newPrefix();
      const transport = await open(prefix);
      const seen: string[] = [];
      const subscription = await transport.subscribe({
        consumer: 'test.things',
        types: ['thing.happened', 'thing.changed'],
        handler: async (event) => void seen.push(event.type),
        onDeadLetter: noDeadLetters,
      });
      await transport.publish([
        anEvent({ type: 'thing.happened', data: { n: 1 } }),
        anEvent({ type: 'other.thing', data: { n: 2 } }),
        anEvent({ type: 'thing.changed', data: { n: 3 } }),
        anEvent({ type: 'other.thing', data: { n: 4 } }),
      ]);
      await waitFor(async () => seen.length === 2, 15_000, 'the two handled events');
      await sleep(300);
      expect(seen.sort()).toEqual(['thing.changed', 'thing.happened']);
      // Delivered by the server: only the two, never the other type (not even to be acknowledged unread).
      let delivered = 0;
      const filters: string[] = [];
      for await (const info of jsm.consumers.list(`${prefix}_CRM`)) {
        delivered += Number(info.delivered.consumer_seq);
        filters.push(info.config.filter_subject ?? '');
      }
      expect(delivered).toBe(2);
      expect(filters.every((filter) => /\.\d+\.thing\.>$/.test(filter))).toBe(true);
      await subscription.stop();
    });

    it('a consumer that declares its sources reads only their streams, and gets no consumers on the others', async () => {
      const prefix = newPrefix();
      const transport = await open(prefix);
      // Both streams exist before the consumer is declared, so the declaration sees them.
      await transport.publish([anEvent({ source: 'billing', data: { n: 1 } }), anEvent({ data: { n: 2 } })]);
      await transport.declare('test.billing-only', ['thing.happened'], ['billing']);
      const seen: number[] = [];
      const subscription = await transport.subscribe({
        consumer: 'test.billing-only',
        types: ['thing.happened'],
        sources: ['billing'],
        handler: async (event) => void seen.push(n(event)),
        onDeadLetter: noDeadLetters,
      });
      await transport.publish([anEvent({ data: { n: 3 } }), anEvent({ source: 'billing', data: { n: 4 } })]);
      await waitFor(async () => seen.length === 2, 15_000, 'the billing events');
      await sleep(500);
      expect(seen.sort()).toEqual([1, 4]);
      const durables = async (stream: string) => {
        const names: string[] = [];
        for await (const info of jsm.consumers.list(stream)) names.push(info.name);
        return names.filter((name) => name.startsWith(natsDurableName('test.billing-only')));
      };
      expect(await durables(`${prefix}_BILLING`)).not.toHaveLength(0);
      expect(await durables(`${prefix}_CRM`)).toEqual([]);
      await subscription.stop();
    });

    it('stores a re-published event id once (broker dedupe) and delivers it once', async () => {
      const prefix = newPrefix();
      const transport = await open(prefix);
      const event = anEvent({ data: { n: 1 } });
      await transport.publish([event]);
      await transport.publish([event, anEvent({ data: { n: 2 } })]);
      await transport.publish([event]);
      expect((await jsm.streams.info(`${prefix}_CRM`)).state.messages).toBe(2);
      const seen: string[] = [];
      const subscription = await transport.subscribe({
        consumer: 'test.dedupe',
        types: ['thing.happened'],
        handler: async (e) => void seen.push(e.id),
        onDeadLetter: noDeadLetters,
      });
      await waitFor(async () => seen.length === 2, 15_000, 'deliveries');
      await sleep(300);
      expect(seen.filter((id) => id === event.id)).toHaveLength(1);
      await subscription.stop();
    });

    it('two subscribers with one durable name share the work: each event handled once in total', async () => {
      const prefix = newPrefix();
      const [a, b] = [await open(prefix), await open(prefix)];
      const handled = new Map<string, string[]>();
      const subscribe = (transport: NatsTransport, replica: string) =>
        transport.subscribe({
          consumer: 'test.shared',
          types: ['thing.happened'],
          handler: async (event) => {
            await sleep(5);
            handled.set(event.id, [...(handled.get(event.id) ?? []), replica]);
          },
          onDeadLetter: noDeadLetters,
        });
      const subscriptions = [await subscribe(a, 'a'), await subscribe(b, 'b')];
      const events = Array.from({ length: 60 }, (_, i) => anEvent({ data: { n: i } }));
      // Both create the stream at once, as two relays would.
      await Promise.all([a.publish(events.slice(0, 30)), b.publish(events.slice(30))]);
      await waitFor(async () => handled.size === events.length, 30_000, 'all events');
      await sleep(500);
      expect([...handled.values()].every((replicas) => replicas.length === 1)).toBe(true);
      const byReplica = (name: string) => [...handled.values()].filter((r) => r[0] === name).length;
      expect(byReplica('a')).toBeGreaterThan(0);
      expect(byReplica('b')).toBeGreaterThan(0);
      for (const subscription of subscriptions) await subscription.stop();
    });

    it('retries a failing event with backoff, then succeeds, keeping the order of its subject', async () => {
      const transport = await open(newPrefix());
      const subject = randomUUID();
      const attempts = new Map<number, number>();
      const applied: number[] = [];
      const subscription = await transport.subscribe({
        consumer: 'test.retry',
        types: ['thing.happened'],
        handler: async (event) => {
          const tries = (attempts.get(n(event)) ?? 0) + 1;
          attempts.set(n(event), tries);
          if (n(event) === 1 && tries < 3) throw new Error('transient');
          applied.push(n(event));
        },
        onDeadLetter: noDeadLetters,
      });
      await transport.publish([1, 2, 3].map((i) => anEvent({ subject, data: { n: i } })));
      await waitFor(async () => applied.length === 3, 15_000, 'deliveries');
      expect(applied).toEqual([1, 2, 3]);
      expect(attempts.get(1)).toBe(3);
      await subscription.stop();
    });

    it('after the last attempt calls onDeadLetter exactly once and moves on to the next event', async () => {
      const transport = await open(newPrefix());
      const subject = randomUUID();
      const dead: { n: number; error: string; attempts: number }[] = [];
      const applied: number[] = [];
      const subscription = await transport.subscribe({
        consumer: 'test.poison',
        types: ['thing.happened'],
        handler: async (event) => {
          if (n(event) === 1) throw new Error('cannot apply');
          applied.push(n(event));
        },
        onDeadLetter: async (event, error, attempts) => void dead.push({ n: n(event), error, attempts }),
      });
      await transport.publish([1, 2].map((i) => anEvent({ subject, data: { n: i } })));
      await waitFor(async () => applied.length === 1, 15_000, 'the event after the poison one');
      // Longer than the ack wait: a second verdict (redelivery or advisory) would show up by now.
      await sleep(3000);
      expect(dead).toEqual([{ n: 1, error: 'cannot apply', attempts: RETRY.maxAttempts }]);
      expect(applied).toEqual([2]);
      await subscription.stop();
    });

    it('keeps publish order per subject across partitions, retries and two replicas', async () => {
      const prefix = newPrefix();
      const replicas = [await open(prefix, { partitions: 3 }), await open(prefix, { partitions: 3 })];
      const subjects = Array.from({ length: 6 }, () => randomUUID());
      const applied = new Map<string, number[]>();
      const failedOnce = new Set<string>();
      const subscriptions: Subscription[] = [];
      for (const transport of replicas) {
        subscriptions.push(
          await transport.subscribe({
            consumer: 'test.order',
            types: ['thing.happened'],
            handler: async (event) => {
              await sleep(random() * 4);
              if (n(event) % 4 === 1 && !failedOnce.has(event.id)) {
                failedOnce.add(event.id);
                throw new Error('once');
              }
              applied.set(event.subject, [...(applied.get(event.subject) ?? []), n(event)]);
            },
            onDeadLetter: noDeadLetters,
          }),
        );
      }
      const events: CloudEvent[] = [];
      for (let i = 0; i < 12; i += 1)
        for (const subject of subjects) events.push(anEvent({ subject, data: { n: i } }));
      await replicas[0]!.publish(events.slice(0, 30));
      await replicas[1]!.publish(events.slice(30));
      await waitFor(
        async () => [...applied.values()].reduce((sum, list) => sum + list.length, 0) === events.length,
        60_000,
        'all events',
      );
      for (const subject of subjects)
        expect(applied.get(subject)).toEqual(Array.from({ length: 12 }, (_, i) => i));
      for (const subscription of subscriptions) await subscription.stop();
    });

    it('stop() finishes and acknowledges the event in hand; the rest go to another replica unhandled', async () => {
      const prefix = newPrefix();
      const [a, b] = [await open(prefix, { partitions: 1 }), await open(prefix, { partitions: 1 })];
      const started: number[] = [];
      const finishedByA: number[] = [];
      const handledByB: number[] = [];
      const events = Array.from({ length: 8 }, (_, i) => anEvent({ data: { n: i } }));
      await a.publish(events);
      const subscriptionA = await a.subscribe({
        consumer: 'test.stop',
        types: ['thing.happened'],
        handler: async (event) => {
          started.push(n(event));
          await sleep(400);
          finishedByA.push(n(event));
        },
        onDeadLetter: noDeadLetters,
      });
      await waitFor(async () => started.length === 2, 15_000, 'A handling its second event');
      await subscriptionA.stop();
      // The event in hand was finished (and acknowledged) before stop() resolved.
      expect(finishedByA).toEqual(started);
      const subscriptionB = await b.subscribe({
        consumer: 'test.stop',
        types: ['thing.happened'],
        handler: async (event) => void handledByB.push(n(event)),
        onDeadLetter: noDeadLetters,
      });
      await waitFor(async () => finishedByA.length + handledByB.length === events.length, 15_000, 'the rest');
      await sleep(2500); // past the ack wait: nothing A finished comes back
      expect([...finishedByA, ...handledByB].sort((x, y) => x - y)).toEqual(events.map(n));
      await subscriptionB.stop();
    });

    it('a message whose holders died past max deliveries reaches the safety net: applied, or dead-lettered once', async () => {
      const prefix = newPrefix();
      const retry = { ...RETRY, maxAttempts: 2 };
      const transport = await open(prefix, { partitions: 1, ackWaitMs: 500, retry });
      const first = anEvent({ data: { n: 1 } });
      await transport.publish([first, anEvent({ data: { n: 2 } })]);
      const js = jetstream(admin);
      const results = new Map<string, { applied: number[]; dead: { n: number; attempts: number }[] }>();
      const subscriptions: Subscription[] = [];
      // For each consumer, two "replicas" take the first message and die without a verdict, one
      // after the other; then a live one subscribes. 'test.crash-ok' can apply the first event,
      // 'test.crash-dead' cannot.
      for (const consumer of ['test.crash-ok', 'test.crash-dead']) {
        await transport.declare(consumer, ['thing.happened']);
        const raw = await js.consumers.get(`${prefix}_CRM`, `${natsDurableName(consumer)}_p0`);
        for (let delivery = 1; delivery <= retry.maxAttempts; delivery += 1) {
          const msg = await raw.next({ expires: 5000 });
          expect(msg?.info.deliveryCount).toBe(delivery);
          expect(msg?.json<CloudEvent>().id).toBe(first.id);
        }
        const result = { applied: [] as number[], dead: [] as { n: number; attempts: number }[] };
        results.set(consumer, result);
        subscriptions.push(
          await transport.subscribe({
            consumer,
            types: ['thing.happened'],
            handler: async (event) => {
              if (consumer === 'test.crash-dead' && n(event) === 1) throw new Error('cannot apply');
              result.applied.push(n(event));
            },
            onDeadLetter: async (event, _error, attempts) => void result.dead.push({ n: n(event), attempts }),
          }),
        );
      }
      await waitFor(
        async () =>
          results.get('test.crash-ok')!.applied.length === 2 &&
          results.get('test.crash-dead')!.applied.length === 1,
        15_000,
        'both consumers past the first event',
      );
      await sleep(1500);
      // The server moves on to the next event as it gives up on the first, so here (and only here)
      // the two may be applied in either order (docs/scaling.md).
      const ok = results.get('test.crash-ok')!;
      expect({ applied: [...ok.applied].sort(), dead: ok.dead }).toEqual({ applied: [1, 2], dead: [] });
      // The safety net's own attempt comes after the server's two deliveries.
      expect(results.get('test.crash-dead')).toEqual({ applied: [2], dead: [{ n: 1, attempts: 3 }] });
      for (const subscription of subscriptions) await subscription.stop();
      for (const consumer of ['test.crash-ok', 'test.crash-dead']) {
        const info = await jsm.consumers.info(`${prefix}_CRM`, `${natsDurableName(consumer)}_p0`);
        expect(info.num_ack_pending + info.num_pending).toBe(0);
      }
    });

    describe('with the consumer machinery over a database', () => {
      let database: Database;
      beforeAll(async () => {
        database = await openTestDatabase();
        const migrations = mkdtempSync(join(tmpdir(), 'c2c-mig-'));
        writeFileSync(
          join(migrations, '0001_effect.sql'),
          'create table effect (id bigserial primary key, event_id uuid not null, subject text not null, n int not null, txid bigint not null default txid_current());',
        );
        await migrate(database.db, 'nats_e2e', migrations);
      });
      afterAll(async () => {
        armFaultPoint(null);
        await database?.close();
      });

      it('applies every event exactly once despite re-publishing, redelivery and two replicas; dead-letters the poison one', async () => {
        const prefix = newPrefix();
        const replicas = [await open(prefix), await open(prefix)];
        // One crash between the inbox commit and the ack, on the first replica that gets there.
        let crashes = 0;
        armFaultPoint('consumer.after-commit', () => {
          if (crashes++ === 0) throw new Error('crashed after commit');
        });
        const subscriptions: Subscription[] = [];
        for (const transport of replicas) {
          subscriptions.push(
            await startConsumer({
              db: database.db,
              schema: 'nats_e2e',
              consumer: 'nats_e2e.effects',
              transport,
              log: silentLogger(),
              handlers: {
                'thing.happened': async (trx, event) => {
                  if (n(event) < 0) throw new Error('poison');
                  await trx
                    .withSchema('nats_e2e')
                    .insertInto('effect')
                    .values({ event_id: event.id, subject: event.subject, n: n(event) })
                    .execute();
                },
              },
            }),
          );
        }
        const subjects = [randomUUID(), randomUUID(), randomUUID()];
        const events = Array.from({ length: 30 }, (_, i) =>
          anEvent({ subject: subjects[i % 3]!, data: { n: i } }),
        );
        const poison = anEvent({ subject: subjects[0]!, data: { n: -1 } });
        await replicas[0]!.publish([...events.slice(0, 20), poison]);
        await replicas[1]!.publish(events.slice(10)); // ten re-published by the other relay
        await replicas[0]!.publish(events.slice(0, 5));

        const effects = () =>
          sql<{ event_id: string; subject: string; n: number; txid: string }>`
            select event_id, subject, n, txid from nats_e2e.effect order by id`.execute(database.db);
        await waitFor(async () => (await effects()).rows.length >= events.length, 30_000, 'all effects');
        const dead = await waitFor(
          async () => {
            const rows = await database.db
              .withSchema('nats_e2e')
              .selectFrom('dead_letter')
              .selectAll()
              .execute();
            return rows.length > 0 && rows;
          },
          30_000,
          'the dead letter',
        );
        await sleep(2500);
        const rows = (await effects()).rows;
        // Each committed batch that applied events passes the point once (consumers batch on NATS:
        // one transaction per batch); the first one "crashed" before its acks, and the events of
        // that batch, applied again one at a time, found their inbox rows.
        expect(crashes).toBe(new Set(rows.map((row) => row.txid)).size);
        expect(rows.map((row) => row.event_id).sort()).toEqual(events.map((e) => e.id).sort());
        for (const subject of subjects)
          expect(rows.filter((row) => row.subject === subject).map((row) => row.n)).toEqual(
            events.filter((e) => e.subject === subject).map(n),
          );
        expect(dead).toHaveLength(1);
        expect(dead[0]).toMatchObject({ event_id: poison.id, attempts: RETRY.maxAttempts });
        const inbox = await sql<{ count: number }>`
          select count(*)::int as count from nats_e2e.inbox where consumer = 'nats_e2e.effects'`.execute(
          database.db,
        );
        expect(inbox.rows[0]?.count).toBe(events.length);
        for (const subscription of subscriptions) await subscription.stop();
      });
    });
  },
);

// A NATS restart under load, on a private server this test starts and stops (the shared one is left
// alone): publishes during the outage fail and are retried, as the relay does; the consumer resumes.
const NATS_SERVER = spawnSync('sh', ['-c', 'command -v nats-server']).stdout?.toString().trim();

(NATS_URL && NATS_SERVER ? describe : describe.skip)(
  `NatsTransport across a NATS restart${NATS_URL && NATS_SERVER ? '' : ' (skipped: NATS_URL not set or no nats-server binary)'}`,
  () => {
    let server: ChildProcess | null = null;
    const store = mkdtempSync(join(tmpdir(), 'c2c-nats-'));
    let port = 0;
    const start = async () => {
      server = spawn(NATS_SERVER!, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], {
        stdio: 'ignore',
      });
      await waitFor(
        async () => {
          const probe = await connect({ servers: `nats://127.0.0.1:${port}`, reconnect: false }).catch(
            () => null,
          );
          await probe?.close();
          return probe !== null;
        },
        10_000,
        'the private NATS server',
      );
    };
    const stop = async () => {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server?.kill('SIGKILL');
      await exited;
      server = null;
    };
    beforeAll(async () => {
      port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const address = probe.address();
          probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
        });
      });
      await start();
    });
    afterAll(async () => {
      if (server) await stop();
      rmSync(store, { recursive: true, force: true });
    });

    it('loses nothing: failed publishes are retried and the consumer resumes', async () => {
      const transport = await NatsTransport.connect({
        servers: `nats://127.0.0.1:${port}`,
        log: silentLogger(),
        streamPrefix: 'C2CR',
        retry: RETRY,
        ackWaitMs: 2000,
        discoverMs: 200,
        publishTimeoutMs: 1000,
      });
      const applied = new Map<string, number>();
      const subscription = await transport.subscribe({
        consumer: 'test.restart',
        types: ['thing.happened'],
        handler: async (event) => void applied.set(event.id, (applied.get(event.id) ?? 0) + 1),
        onDeadLetter: async (event, error) => {
          throw new Error(`unexpected dead letter ${event.id}: ${error}`);
        },
      });
      const events = Array.from({ length: 200 }, (_, i) => anEvent({ subject: `s${i % 7}`, data: { n: i } }));
      let failures = 0;
      const publishing = (async () => {
        for (let i = 0; i < events.length; i += 10) {
          // The relay's loop: a failed batch stays in the outbox and goes again.
          for (;;) {
            try {
              await transport.publish(events.slice(i, i + 10));
              break;
            } catch {
              failures += 1;
              await sleep(200);
            }
          }
          await sleep(20);
        }
      })();
      await waitFor(async () => applied.size >= 40, 15_000, 'some events before the restart');
      await stop();
      await sleep(1500);
      await start();
      await publishing;
      await waitFor(async () => applied.size === events.length, 60_000, 'every event after the restart');
      await sleep(500);
      expect(failures).toBeGreaterThan(0);
      // At least once: an ack lost with the connection brings its event again (the inbox absorbs it
      // in a real consumer); none is lost, and none comes more than twice.
      expect(events.every((event) => (applied.get(event.id) ?? 0) >= 1)).toBe(true);
      expect(Math.max(...applied.values())).toBeLessThanOrEqual(2);
      await subscription.stop();
      await transport.close();
    });
  },
);
