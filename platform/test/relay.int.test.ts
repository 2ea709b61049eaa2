import { seededRandom } from '../src/testing/property.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DatabaseTransport } from '../src/events/database-transport.ts';
import type { Database } from '../src/db/db.ts';
import { appendToOutbox, type CloudEvent } from '../src/events/events.ts';
import { silentLogger } from '../src/core/logger.ts';
import { migrate } from '../src/db/migrations.ts';
import { OutboxRelay } from '../src/events/relay.ts';
import { Signals } from '../src/core/signals.ts';
import { openTestDatabase } from '../src/testing/harness.ts';
import type { EventTransport, Subscription } from '../src/events/transport.ts';

const random = seededRandom('relay');

// Several relays on one outbox (replicas of one subgraph). Runs on PGlite, and on PostgreSQL when
// DATABASE_URL is set, where the relays' transactions run on separate pooled connections.

/** A transport that only records what reaches it, slowly, so that relays overlap in time. */
class RecordingTransport implements EventTransport {
  readonly name = 'recording';
  constructor(
    private readonly log: { relay: string; event: CloudEvent }[],
    private readonly relay: string,
  ) {}
  async declare(): Promise<void> {}
  async publish(events: CloudEvent[]): Promise<void> {
    for (const event of events) {
      await sleep(random() < 0.1 ? 2 : 0);
      this.log.push({ relay: this.relay, event });
    }
  }
  async subscribe(): Promise<Subscription> {
    throw new Error('not a consumer transport');
  }
  async close(): Promise<void> {}
}

const SUBJECTS = ['s1', 's2', 's3', 's4', 's5'];

describe(`relays on one outbox (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let database: Database;
  const log = silentLogger();
  const signals = new Signals();
  beforeAll(async () => {
    database = await openTestDatabase();
    await migrate(database.db, 'relay_a', mkdtempSync(join(tmpdir(), 'c2c-mig-')));
    await migrate(database.db, 'relay_b', mkdtempSync(join(tmpdir(), 'c2c-mig-')));
  });
  afterAll(() => database.close());

  /** Commits `batches` transactions of a few events each, versions counting up per subject. */
  async function write(schema: string, batches: number): Promise<void> {
    for (let b = 0; b < batches; b += 1) {
      await database.db.transaction().execute((trx) =>
        appendToOutbox(
          trx,
          schema,
          schema,
          SUBJECTS.filter(() => random() < 0.6).map((subject) => ({
            type: 'thing.changed',
            subject,
            data: { batch: b },
          })),
          { correlationId: `w-${b}` },
        ),
      );
      if (b % 5 === 0) await sleep(1);
    }
  }

  async function drainWhile(relay: OutboxRelay, writing: Promise<void>): Promise<void> {
    let done = false;
    void writing.finally(() => (done = true));
    while (!done) {
      await relay.drain();
      await sleep(1);
    }
  }

  async function outbox(schema: string) {
    return (
      await sql<{ id: string; subject: string; published: boolean }>`
        select id, subject, published_at is not null as published from ${sql.table(`${schema}.outbox`)}
        order by seq`.execute(database.db)
    ).rows;
  }

  it('publish every row exactly once, in seq order per subject, while a writer keeps committing', async () => {
    const published: { relay: string; event: CloudEvent }[] = [];
    const relays = ['r1', 'r2'].map(
      (name) =>
        new OutboxRelay({
          db: database.db,
          schema: 'relay_a',
          transport: new RecordingTransport(published, name),
          signals,
          log,
          batchSize: 7,
        }),
    );
    const writing = write('relay_a', 60);
    await Promise.all([...relays.map((relay) => drainWhile(relay, writing)), writing]);
    // Whatever was committed last goes out on the next drain of either relay.
    await Promise.all(relays.map((relay) => relay.drain()));
    await relays[0]!.drain();

    const rows = await outbox('relay_a');
    expect(rows.length).toBeGreaterThan(60);
    expect(rows.every((row) => row.published)).toBe(true);
    const ids = published.map((p) => p.event.id);
    expect(new Set(ids).size).toBe(ids.length); // no row published twice
    expect(ids.sort()).toEqual(rows.map((row) => row.id).sort());
    for (const subject of SUBJECTS) {
      expect(published.filter((p) => p.event.subject === subject).map((p) => p.event.id)).toEqual(
        rows.filter((row) => row.subject === subject).map((row) => row.id),
      );
    }
  });

  it('with the embedded transport too: one bus message per row, in seq order per subject', async () => {
    const transport = new DatabaseTransport({ db: database.db, signals, log });
    await transport.declare('relay.sink', ['thing.changed']);
    const relays = [1, 2].map(
      () => new OutboxRelay({ db: database.db, schema: 'relay_b', transport, signals, log, batchSize: 5 }),
    );
    const writing = write('relay_b', 40);
    await Promise.all([...relays.map((relay) => drainWhile(relay, writing)), writing]);
    await Promise.all(relays.map((relay) => relay.drain()));
    await relays[1]!.drain();

    const rows = await outbox('relay_b');
    expect(rows.every((row) => row.published)).toBe(true);
    const bus = (
      await sql<{ id: string; subject: string }>`
        select id, subject from bus.message where type = 'thing.changed' order by seq`.execute(database.db)
    ).rows;
    expect(bus.map((m) => m.id).sort()).toEqual(rows.map((row) => row.id).sort());
    for (const subject of SUBJECTS) {
      expect(bus.filter((m) => m.subject === subject).map((m) => m.id)).toEqual(
        rows.filter((row) => row.subject === subject).map((row) => row.id),
      );
    }
    await transport.close();
  });

  it('a failed publish leaves the claimed rows for the next drain, in order', async () => {
    const published: { relay: string; event: CloudEvent }[] = [];
    let failNext = true;
    const flaky = new (class extends RecordingTransport {
      override async publish(events: CloudEvent[]): Promise<void> {
        if (failNext) {
          failNext = false;
          throw new Error('backbone down');
        }
        await super.publish(events);
      }
    })(published, 'flaky');
    await write('relay_a', 3);
    const relay = new OutboxRelay({ db: database.db, schema: 'relay_a', transport: flaky, signals, log });
    await expect(relay.drain()).rejects.toThrow('backbone down');
    const pending = (await outbox('relay_a')).filter((row) => !row.published);
    expect(pending.length).toBeGreaterThan(0);
    expect(await relay.drain()).toBe(pending.length);
    expect(published.map((p) => p.event.id)).toEqual(pending.map((row) => row.id));
  });

  // Between processes on a server: PGlite has one process (its data directory's lock), and there a
  // dead owner's open transaction would hold the single connection the stand-by needs.
  it.skipIf(!process.env.DATABASE_URL)(
    'one owner publishes; when it dies holding a batch, a stand-by takes over: nothing lost, nothing twice',
    async () => {
      await migrate(database.db, 'relay_c', mkdtempSync(join(tmpdir(), 'c2c-mig-')));
      const published: { relay: string; event: CloudEvent }[] = [];
      const batches = { owner: 0, standby: 0 };
      // The owner's process "dies" in its third batch: its publish never returns (nothing of that
      // batch reaches the backbone) and it stops renewing its lease.
      let died: (error: Error) => void = () => {};
      const dying = new (class extends RecordingTransport {
        override async publish(events: CloudEvent[]): Promise<void> {
          batches.owner += 1;
          if (batches.owner === 3) await new Promise<void>((_, reject) => (died = reject));
          await super.publish(events);
        }
      })(published, 'owner');
      const standing = new (class extends RecordingTransport {
        override async publish(events: CloudEvent[]): Promise<void> {
          batches.standby += 1;
          await super.publish(events);
        }
      })(published, 'standby');
      const common = {
        db: database.db,
        schema: 'relay_c',
        signals,
        log,
        batchSize: 4,
        leaseMs: 600,
        pollMs: 20,
      };
      const owner = new OutboxRelay({ ...common, transport: dying, holder: 'process-a' });
      owner.start();
      await vi.waitFor(async () => {
        const rows = await sql<{ holder: string }>`select holder from relay_c.lease`.execute(database.db);
        expect(rows.rows[0]?.holder).toBe('process-a');
      });
      const standby = new OutboxRelay({ ...common, transport: standing, holder: 'process-b' });
      standby.start();
      await write('relay_c', 30);
      await vi.waitFor(
        async () => {
          const rows = await outbox('relay_c');
          expect(rows.every((row) => row.published)).toBe(true);
        },
        { timeout: 10_000, interval: 50 },
      );
      // While the owner lived, the stand-by published nothing; then it took over.
      expect(batches.owner).toBe(3);
      expect(batches.standby).toBeGreaterThan(0);
      expect(published.slice(0, 8).every((p) => p.relay === 'owner')).toBe(true);
      expect(published.slice(8).every((p) => p.relay === 'standby')).toBe(true);
      const rows = await outbox('relay_c');
      const ids = published.map((p) => p.event.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual(rows.map((row) => row.id).sort());
      for (const subject of SUBJECTS) {
        expect(published.filter((p) => p.event.subject === subject).map((p) => p.event.id)).toEqual(
          rows.filter((row) => row.subject === subject).map((row) => row.id),
        );
      }
      const holder = await sql<{ holder: string }>`select holder from relay_c.lease`.execute(database.db);
      expect(holder.rows[0]?.holder).toBe('process-b');
      died(new Error('process gone'));
      await Promise.all([owner.stop(), standby.stop()]);
    },
  );
});
