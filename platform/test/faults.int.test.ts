import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConsumer } from '../src/events/consumer.ts';
import { DatabaseTransport } from '../src/events/database-transport.ts';
import type { Database } from '../src/db/db.ts';
import { appendToOutbox } from '../src/events/events.ts';
import { armedFaultPoint, armFaultPoint, faultPoint, type FaultPointName } from '../src/core/faults.ts';
import { silentLogger } from '../src/core/logger.ts';
import { migrate } from '../src/db/migrations.ts';
import { OutboxRelay } from '../src/events/relay.ts';
import { Signals } from '../src/core/signals.ts';
import { openTestDatabase, waitFor } from '../src/testing/harness.ts';

// Where the named fault points sit (docs/faults.md). A real run SIGKILLs the process there
// (test/faults/crash.e2e.test.ts); here the armed action throws instead, which stops the code at
// the same place so the test can look at what was and was not done.

class FaultReached extends Error {}
const stopHere = (point: FaultPointName) => {
  throw new FaultReached(point);
};

describe('fault points', () => {
  afterEach(() => armFaultPoint(null));

  it('do nothing unless armed, and only the armed one acts', () => {
    const reached: string[] = [];
    faultPoint('relay.after-publish');
    expect(armedFaultPoint()).toBeNull();
    armFaultPoint('relay.after-publish', (point) => reached.push(point));
    faultPoint('outbox.after-commit');
    faultPoint('consumer.after-commit');
    faultPoint('relay.after-publish');
    expect(reached).toEqual(['relay.after-publish']);
    expect(armedFaultPoint()).toBe('relay.after-publish');
    armFaultPoint(undefined);
    faultPoint('relay.after-publish');
    expect(reached).toHaveLength(1);
  });

  describe('in the relay and the consumer', () => {
    let database: Database;
    const signals = new Signals();
    const log = silentLogger();
    let transport: DatabaseTransport;
    beforeAll(async () => {
      database = await openTestDatabase();
      await migrate(database.db, 'faults', mkdtempSync(join(tmpdir(), 'c2c-mig-')));
      transport = new DatabaseTransport({ db: database.db, signals, log, pollMs: 50 });
      await transport.declare('faults.sink', ['fault.tested']);
    });
    afterAll(async () => {
      await transport.close();
      await database.close();
    });

    const append = async (subject: string, type = 'fault.tested') => {
      const [event] = await database.db.transaction().execute((trx) =>
        appendToOutbox(trx, 'faults', 'faults', [{ type, subject, data: {} }], {
          correlationId: subject,
        }),
      );
      return event!;
    };
    const stateOf = async (id: string) =>
      (
        await sql<{ published: boolean; in_bus: boolean }>`
          select o.published_at is not null as published,
            exists (select 1 from bus.message m where m.id = o.id) as in_bus
          from faults.outbox o where o.id = ${id}`.execute(database.db)
      ).rows[0];

    it('outbox.after-commit stops the relay before it publishes; relay.after-publish before it marks', async () => {
      const relay = new OutboxRelay({ db: database.db, schema: 'faults', transport, signals, log });
      const first = await append('a');
      armFaultPoint('outbox.after-commit', stopHere);
      await expect(relay.drain()).rejects.toBeInstanceOf(FaultReached);
      expect(await stateOf(first.id)).toEqual({ published: false, in_bus: false });

      armFaultPoint('relay.after-publish', stopHere);
      await expect(relay.drain()).rejects.toBeInstanceOf(FaultReached);
      expect(await stateOf(first.id)).toEqual({ published: false, in_bus: true });

      // The restarted relay sends it again; the bus keeps one message and one delivery.
      armFaultPoint(null);
      expect(await relay.drain()).toBe(1);
      expect(await stateOf(first.id)).toEqual({ published: true, in_bus: true });
      const deliveries = await sql<{ n: number }>`
        select count(*)::int as n from bus.delivery d join bus.message m on m.seq = d.message_seq
        where m.id = ${first.id}`.execute(database.db);
      expect(deliveries.rows[0]?.n).toBe(1);
    });

    it('consumer.after-commit comes after the effect commits and before the delivery is acknowledged', async () => {
      const relay = new OutboxRelay({ db: database.db, schema: 'faults', transport, signals, log });
      await transport.declare('faults.consumer', ['fault.consumed']);
      const event = await append('b', 'fault.consumed');
      await relay.drain();
      const applied: string[] = [];
      const reached: string[] = [];
      armFaultPoint('consumer.after-commit', (point) => {
        reached.push(point);
        stopHere(point);
      });
      const subscription = await startConsumer({
        db: database.db,
        schema: 'faults',
        consumer: 'faults.consumer',
        handlers: { 'fault.consumed': async (_trx, e) => void applied.push(e.subject) },
        transport,
        log,
      });
      try {
        await waitFor(async () => reached.length > 0, 10_000, 'the fault point');
        const delivery = async () =>
          (
            await sql<{ inbox: number; state: string }>`
              select (select count(*)::int from faults.inbox where event_id = ${event.id}) as inbox, d.state
              from bus.delivery d join bus.message m on m.seq = d.message_seq
              where d.consumer = 'faults.consumer' and m.id = ${event.id}`.execute(database.db)
          ).rows[0];
        // Committed (inbox row), not acknowledged: the delivery stays pending for another attempt.
        expect(await delivery()).toEqual({ inbox: 1, state: 'pending' });
        armFaultPoint(null);
        await waitFor(async () => (await delivery())?.state === 'done', 10_000, 'the redelivery');
        expect(await delivery()).toEqual({ inbox: 1, state: 'done' });
        // Applied once: the redelivery found the inbox row.
        expect(applied).toEqual(['b']);
        expect(reached).toEqual(['consumer.after-commit']);
      } finally {
        await subscription.stop();
      }
    });
  });
});
