import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@c2c/platform/core';
import type { Database } from '@c2c/platform/db';
import {
  fixedClock,
  openTestDatabase,
  startTestSubgraphs,
  waitFor,
  type TestSubgraphs,
} from '@c2c/platform/testing';
import { createIngestValidator, readIngestContracts } from '@c2c/schema/events/contracts';
import { seedSubscriptions } from '../bench/usage.ts';
import { UsageService } from '../src/domain/usage.service.ts';
import { billingFromEnv } from '../src/ports/billing-config.ts';
import { buildSubscriptionSubgraph } from '../src/index.ts';
import {
  DEFAULT_BACKBONE_RETRY,
  UsageBackboneHandler,
  usageBackboneNames,
} from '../src/ingestion/usage-backbone.ts';

// Usage over the event backbone (docs/usage.md) against a real NATS server with JetStream
// (NATS_URL): billing started as in the scaled-out shape (NATS_URL in its environment) consumes the
// usage subject. Every run uses its own stream prefix; afterAll deletes its stream.

const NATS_URL = process.env.NATS_URL;
const CONTRACT = readIngestContracts(join(import.meta.dirname, '..', '..', '..', 'schema', 'events'))[
  'usage.ingest.v1'
]!;
const matchesContract = createIngestValidator(CONTRACT);

(NATS_URL ? describe : describe.skip)(
  `usage over the event backbone${NATS_URL ? '' : ' (skipped: NATS_URL not set)'}`,
  () => {
    const prefix = `C2CT_${randomBytes(4).toString('hex').toUpperCase()}`;
    const names = usageBackboneNames(prefix);
    const clock = fixedClock('2026-02-10T12:00:00Z');
    const env = { NATS_URL, NATS_STREAM_PREFIX: prefix, NATS_ACK_WAIT_MS: '1000', USAGE_INGEST_BATCH: '8' };
    let database: Database;
    let stack: TestSubgraphs | null = null;
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    let subscriptions: string[];
    let planCode: string;

    const start = async () => {
      stack = await startTestSubgraphs([buildSubscriptionSubgraph], { database, clock, env });
    };
    const publish = async (payload: unknown, msgID?: string) => {
      const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      await jetstream(nc).publish(names.subject, body, msgID ? { msgID } : {});
    };
    /** Waits until the consumer has settled every message (work-queue retention: acked = gone). */
    const drained = () =>
      waitFor(async () => (await jsm.streams.info(names.stream)).state.messages === 0, 20_000);
    const event = (id: string, overrides: Record<string, unknown> = {}) => ({
      id,
      subscriptionId: subscriptions[0]!,
      metric: 'api_calls',
      quantity: '10',
      occurredAt: '2026-02-03T10:00:00Z',
      ...overrides,
    });
    const message = (events: unknown[], batchId = randomUUID()) => ({
      version: 1,
      source: 'product-eu',
      batchId,
      events,
    });
    const stored = async (ids: string[]) =>
      (
        await sql<{ id: string; quantity_micro: string }>`
          select id, quantity_micro::text from subscription.usage_event where id in (${sql.join(ids)}) order by id`.execute(
          database.db,
        )
      ).rows;
    const periodTotal = async (subscriptionId: string) =>
      (
        await sql<{ quantity: string; events: string }>`
          select quantity_micro::text as quantity, event_count::text as events from subscription.usage_period
          where subscription_id = ${subscriptionId} and period_start = '2026-02-01' and metric = 'api_calls'`.execute(
          database.db,
        )
      ).rows[0];
    const rejections = async (source: string) =>
      (
        await sql<{
          message_key: string;
          event_index: number;
          event_id: string | null;
          code: string;
          field: string | null;
        }>`
          select message_key, event_index, event_id, code, field from subscription.usage_rejected_event
          where source = ${source} order by message_key, event_index`.execute(database.db)
      ).rows;

    beforeAll(async () => {
      database = await openTestDatabase();
      await start();
      ({ ids: subscriptions, planCode } = await seedSubscriptions(database, 4));
      expect(planCode).toBeTruthy();
      nc = await connect({ servers: NATS_URL! });
      jsm = await jetstreamManager(nc);
    });
    afterAll(async () => {
      await stack?.close();
      await jsm?.streams.delete(names.stream).catch(() => undefined);
      await nc?.close();
      await database?.close();
    });

    it('counts an event once however often it arrives: in two messages, in one message twice, re-published', async () => {
      const tag = randomUUID().slice(0, 8);
      const ids = [1, 2, 3, 4].map((n) => `${tag}-${n}`);
      const first = message([event(ids[0]!), event(ids[1]!), event(ids[2]!)]);
      expect(matchesContract(first)).toEqual([]);
      await publish(first, first.batchId);
      // Overlaps the first, repeats an id inside itself, and carries a new one.
      await publish(message([event(ids[1]!), event(ids[2]!), event(ids[3]!), event(ids[3]!)]));
      // The same batch again under another message id: past the stream's duplicate window, as it were.
      await publish(first, `${first.batchId}-again`);
      await drained();
      expect((await stored(ids)).map((row) => [row.id, row.quantity_micro])).toEqual(
        ids.map((id) => [id, '10000000']),
      );
      const total = await periodTotal(subscriptions[0]!);
      expect(total).toBeDefined();
      // Every accepted event of the run so far is one of these four: 4 × 10.
      expect(total).toEqual({ quantity: '40000000', events: '4' });
    });

    it('refuses bad events one by one, records the rest, and refuses unreadable messages whole', async () => {
      const source = `refusals-${randomUUID().slice(0, 8)}`;
      const tag = randomUUID().slice(0, 8);
      const batch = {
        ...message([
          event(`${tag}-ok-1`, { subscriptionId: subscriptions[1] }),
          event(`${tag}-neg`, { subscriptionId: subscriptions[1], quantity: '-1' }),
          event(`${tag}-metric`, { subscriptionId: subscriptions[1], metric: 'storage_gb' }),
          event(`${tag}-future`, { subscriptionId: subscriptions[1], occurredAt: '2026-03-01T00:00:00Z' }),
          42,
          event(`${tag}-ok-2`, { subscriptionId: subscriptions[1], quantity: '2.5' }),
        ]),
        source,
      };
      await publish(batch);
      await publish({ ...message([event(`${tag}-v2`)]), source, version: 2 });
      await publish({ ...message([]), source });
      await publish('{ not json');
      await drained();
      expect((await stored([`${tag}-ok-1`, `${tag}-ok-2`])).map((row) => row.quantity_micro)).toEqual([
        '10000000',
        '2500000',
      ]);
      expect(await stored([`${tag}-neg`, `${tag}-metric`, `${tag}-future`, `${tag}-v2`])).toEqual([]);
      expect(await periodTotal(subscriptions[1]!)).toEqual({ quantity: '12500000', events: '2' });
      const rows = (await rejections(source)).filter((r) => r.event_index >= 0);
      expect(rows.map((r) => [r.event_index, r.event_id, r.code, r.field])).toEqual([
        [1, `${tag}-neg`, 'INVALID_QUANTITY', 'events[1].quantity'],
        [2, `${tag}-metric`, 'UNKNOWN_METRIC', 'events[2].metric'],
        [3, `${tag}-future`, 'OCCURRED_IN_FUTURE', 'events[3].occurredAt'],
        [4, null, 'INVALID_EVENT', 'events[4]'],
      ]);
      const whole = (await rejections(source)).filter((r) => r.event_index === -1).map((r) => r.code);
      expect(whole.sort()).toEqual(['INVALID_BATCH_SIZE', 'UNSUPPORTED_VERSION']);
      // Not JSON: no source to name, so it is keyed by its stream sequence and kept as it arrived.
      const unreadable = await sql<{ code: string; payload: string }>`
        select code, payload from subscription.usage_rejected_event where message_key like 'seq:%'`.execute(
        database.db,
      );
      expect(unreadable.rows).toEqual([{ code: 'INVALID_MESSAGE', payload: '{ not json' }]);
      // The contract refuses what billing refuses whole.
      expect(matchesContract({ ...batch, version: 2 })).not.toEqual([]);
      expect(matchesContract({ ...batch, events: [] })).not.toEqual([]);
      // The audit names the producer and the batch.
      const audit = await sql<{ principal: string; result: string; codes: string[] }>`
        select principal, result, codes from subscription.audit_log where correlation_id = ${batch.batchId}`.execute(
        database.db,
      );
      expect(audit.rows).toEqual([
        {
          principal: `backbone:${source}`,
          result: 'USER_ERROR',
          codes: ['INVALID_QUANTITY', 'UNKNOWN_METRIC', 'OCCURRED_IN_FUTURE', 'INVALID_EVENT'],
        },
      ]);
    });

    it('does not count twice a message whose holder committed and died before the ack, nor lose one it died holding', async () => {
      await stack!.close();
      stack = null;
      const tag = randomUUID().slice(0, 8);
      const source = `crash-${tag}`;
      const committed = {
        ...message([
          event(`${tag}-a`, { subscriptionId: subscriptions[2] }),
          event(`${tag}-bad`, { subscriptionId: subscriptions[2], quantity: 'x' }),
        ]),
        source,
      };
      const dropped = {
        ...message([event(`${tag}-b`, { subscriptionId: subscriptions[2], quantity: '5' })]),
        source,
      };
      await publish(committed);
      await publish(dropped);
      // A replica takes both messages, commits the first one's events and dies: no ack for either.
      const crashing = await connect({ servers: NATS_URL! });
      const consumer = await jetstream(crashing).consumers.get(names.stream, names.consumer);
      const taken: JsMsg[] = [];
      for await (const msg of await consumer.fetch({ max_messages: 2, expires: 2000 })) taken.push(msg);
      expect(taken).toHaveLength(2);
      const handler = new UsageBackboneHandler(
        database.db,
        new UsageService(
          { db: database.db, log: silentLogger(), clock, afterCommit: () => {}, env: {} },
          billingFromEnv({}),
        ),
        silentLogger(),
        DEFAULT_BACKBONE_RETRY,
      );
      const first = taken.find((m) => m.seq === Math.min(...taken.map((t) => t.seq)))!;
      const [outcome] = await handler.handle([
        { data: first.data, subject: first.subject, seq: first.seq, deliveryCount: 1, msgId: null },
      ]);
      expect(outcome!.result).toMatchObject({ accepted: 1, duplicates: 0 });
      await crashing.close();

      // Billing starts again: both come back after the ack wait.
      await start();
      await drained();
      expect((await stored([`${tag}-a`, `${tag}-b`])).map((row) => row.quantity_micro)).toEqual([
        '10000000',
        '5000000',
      ]);
      expect(await periodTotal(subscriptions[2]!)).toEqual({ quantity: '15000000', events: '2' });
      // The refusal of the committed message is recorded once, not once per delivery.
      expect((await rejections(source)).map((r) => [r.event_index, r.code])).toEqual([
        [1, 'INVALID_QUANTITY'],
      ]);
    });
  },
);
