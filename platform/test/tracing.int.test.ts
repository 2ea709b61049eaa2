import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsumer } from '../src/events/consumer.ts';
import { DatabaseTransport } from '../src/events/database-transport.ts';
import type { AnyDb, Database } from '../src/db/db.ts';
import { appendToOutbox, readUnpublished, type CloudEvent } from '../src/events/events.ts';
import { silentLogger } from '../src/core/logger.ts';
import { migrate } from '../src/db/migrations.ts';
import { NatsTransport } from '../src/events/nats-transport.ts';
import { OutboxRelay } from '../src/events/relay.ts';
import { Signals } from '../src/core/signals.ts';
import { openTestDatabase, waitFor } from '../src/testing/harness.ts';
import {
  setupTracing,
  TRACE_ATTRIBUTES,
  tracingEnabled,
  type Tracing,
} from '../src/observability/tracing.ts';
import type { EventTransport } from '../src/events/transport.ts';

// The trace context of an event (docs/tracing.md): appended with the span that committed it, kept in
// the outbox, carried by both transports in the CloudEvents `traceparent` extension, and continued by
// the consumer. Runs on PGlite, or PostgreSQL with DATABASE_URL; the NATS part needs NATS_URL.

const NATS_URL = process.env.NATS_URL;
const SCHEMA = 'trace_ctx';
const log = silentLogger();
let database: Database;

beforeAll(async () => {
  database = await openTestDatabase();
  await migrate(database.db, SCHEMA, mkdtempSync(join(tmpdir(), 'c2c-mig-')));
});
afterAll(() => database?.close());

const append = (db: AnyDb, subject: string) =>
  db.transaction().execute((trx) =>
    appendToOutbox(trx, SCHEMA, SCHEMA, [{ type: 'thing.happened', subject, data: {} }], {
      correlationId: `corr-${subject}`,
    }),
  );

const traceparentOf = async (subject: string) =>
  (
    await database.db
      .withSchema(SCHEMA)
      .selectFrom('outbox')
      .select('traceparent')
      .where('subject', '=', subject)
      .executeTakeFirstOrThrow()
  ).traceparent as string | null;

describe('without tracing', () => {
  it('appends events without a traceparent and records nothing', async () => {
    expect(tracingEnabled()).toBe(false);
    const [event] = await append(database.db, 'untraced');
    expect(event).not.toHaveProperty('traceparent');
    expect(await traceparentOf('untraced')).toBeNull();
  });
});

describe('with tracing', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  beforeAll(() => {
    tracing = setupTracing({ serviceName: 'platform-test', exporter });
  });
  afterAll(() => tracing.shutdown());

  /** Appends one event inside a span, as a request would; returns the span's ids. */
  const appendInSpan = (subject: string) =>
    trace.getTracer('test').startActiveSpan('request', async (span) => {
      await append(database.db, subject);
      span.end();
      return span.spanContext();
    });

  /** Publishes `subject`'s event through `transport` and consumes it with a consumer that appends a follow-up. */
  async function roundTrip(transport: EventTransport, subject: string): Promise<CloudEvent> {
    const received: CloudEvent[] = [];
    const signals = new Signals();
    const consumer = `test.trace-${randomBytes(3).toString('hex')}`;
    await transport.declare(consumer, ['thing.happened']);
    const subscription = await startConsumer({
      db: database.db,
      schema: SCHEMA,
      consumer,
      handlers: {
        'thing.happened': async (trx, event) => {
          if (event.subject !== subject) return;
          received.push(event);
          await appendToOutbox(
            trx,
            SCHEMA,
            SCHEMA,
            [{ type: 'thing.followed', subject: `${subject}-next`, data: {} }],
            {
              correlationId: event.correlationid,
              causationId: event.id,
            },
          );
        },
      },
      transport,
      log,
    });
    try {
      await new OutboxRelay({ db: database.db, schema: SCHEMA, transport, signals, log }).drain();
      return await waitFor(async () => received[0], 15_000, `the consumer to receive ${subject}`);
    } finally {
      await subscription.stop();
    }
  }

  function assertContinued(subject: string, request: { traceId: string; spanId: string }) {
    const spans = exporter.getFinishedSpans();
    const consumed = spans.find(
      (s) => s.kind === SpanKind.CONSUMER && s.attributes['cloudevents.event_subject'] === subject,
    );
    expect(consumed).toBeDefined();
    expect(consumed!.spanContext().traceId).toBe(request.traceId);
    expect(consumed!.parentSpanContext?.spanId).toBe(request.spanId);
    expect(consumed!.attributes).toMatchObject({
      [TRACE_ATTRIBUTES.subgraph]: SCHEMA,
      [TRACE_ATTRIBUTES.applied]: true,
      [TRACE_ATTRIBUTES.correlationId]: `corr-${subject}`,
    });
    const under = (parent: ReadableSpan) =>
      spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
    expect(under(consumed!).map((s) => s.attributes['db.operation.name'])).toEqual(
      expect.arrayContaining(['BEGIN', 'INSERT', 'COMMIT']),
    );
    return consumed!;
  }

  it('stores the active span as the traceparent of the events it appends', async () => {
    const request = await appendInSpan('traced');
    const traceparent = `00-${request.traceId}-${request.spanId}-01`;
    expect(await traceparentOf('traced')).toBe(traceparent);
    const unpublished = await readUnpublished(database.db, SCHEMA, 1000);
    expect(unpublished.find((row) => row.event.subject === 'traced')?.event.traceparent).toBe(traceparent);
    // The INSERT itself is a span of that request; statements outside any span are not recorded.
    const sql = exporter.getFinishedSpans().filter((s) => s.attributes['db.system.name'] === 'postgresql');
    expect(sql.every((s) => s.parentSpanContext !== undefined)).toBe(true);
    expect(
      sql.some(
        (s) =>
          s.parentSpanContext?.spanId === request.spanId &&
          /insert into "trace_ctx"\."outbox"/.test(String(s.attributes['db.query.text'])),
      ),
    ).toBe(true);
  });

  it('carries it through the database transport into a consumer span that continues the trace', async () => {
    const request = await appendInSpan('via-database');
    const transport = new DatabaseTransport({ db: database.db, signals: new Signals(), log, pollMs: 50 });
    try {
      const event = await roundTrip(transport, 'via-database');
      expect(event.traceparent).toBe(`00-${request.traceId}-${request.spanId}-01`);
      const consumed = assertContinued('via-database', request);
      // What the consumer appends continues the trace from its own span.
      expect(await traceparentOf('via-database-next')).toBe(
        `00-${request.traceId}-${consumed.spanContext().spanId}-01`,
      );
    } finally {
      await transport.close();
    }
  });

  (NATS_URL ? it : it.skip)(
    `carries it through the NATS transport${NATS_URL ? '' : ' (skipped: NATS_URL not set)'}`,
    async () => {
      const prefix = `C2CT_${randomBytes(4).toString('hex')}`;
      const request = await appendInSpan('via-nats');
      const transport = await NatsTransport.connect({ servers: NATS_URL!, log, streamPrefix: prefix });
      try {
        const event = await roundTrip(transport, 'via-nats');
        expect(event.traceparent).toBe(`00-${request.traceId}-${request.spanId}-01`);
        assertContinued('via-nats', request);
      } finally {
        await transport.close();
        const admin = await connect({ servers: NATS_URL! });
        const jsm = await jetstreamManager(admin);
        for await (const name of jsm.streams.names()) {
          if (name.startsWith(`${prefix}_`)) await jsm.streams.delete(name);
        }
        await admin.close();
      }
    },
  );
});
