import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { AnyDb, AnyTransaction } from '../db/db.ts';
import { currentTraceparent } from '../observability/tracing.ts';

/** CloudEvents 1.0 JSON envelope with our extensions (docs/events.md). */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: T;
  correlationid: string;
  causationid?: string;
  aggregateversion?: number;
  /** CloudEvents distributed tracing extension: the W3C trace context of the span that appended it. */
  traceparent?: string;
}

export interface NewEvent<T = unknown> {
  type: string;
  subject: string;
  data: T;
  aggregateVersion?: number;
}

/** Where an event comes from: the request or event that caused it. */
export interface Causality {
  correlationId: string;
  causationId?: string | null;
  /**
   * The trace to continue when no span is active: an effect applying many events at once (no
   * span of its own per event) passes the trace context its event arrived with.
   */
  traceparent?: string;
}

/** Checks an event about to be appended; returns the problems (empty when it is fine). */
export type AppendedEventCheck = (source: string, type: string, data: unknown) => string[];

let appendedEventCheck: AppendedEventCheck | undefined;

/**
 * Installs (or removes, with undefined) a check of every event appended to an outbox: a violation
 * fails the append, and with it the transaction. Tests install the event contracts
 * (schema/events/) here, so every event a producer appends in any test is validated.
 */
export function checkAppendedEvents(check: AppendedEventCheck | undefined): void {
  appendedEventCheck = check;
}

const appendTracking = new AsyncLocalStorage<{ appended: boolean }>();

/**
 * Runs `work` and tells whether it appended to an outbox (anywhere in its async calls): a consumer
 * wakes the relay only after a commit that did, not after every commit.
 */
export async function trackAppends<T>(work: () => Promise<T>): Promise<{ result: T; appended: boolean }> {
  const tracker = { appended: false };
  const result = await appendTracking.run(tracker, work);
  return { result, appended: tracker.appended };
}

/** Appends events to `schema.outbox` inside the caller's transaction; nothing is published before commit. */
export async function appendToOutbox(
  trx: AnyTransaction,
  schema: string,
  source: string,
  events: NewEvent[],
  causality: Causality,
): Promise<CloudEvent[]> {
  if (events.length === 0) return [];
  const tracker = appendTracking.getStore();
  if (tracker) tracker.appended = true;
  if (appendedEventCheck) {
    const problems = events.flatMap((e) => appendedEventCheck!(source, e.type, e.data));
    if (problems.length) throw new Error(`event contract violated: ${problems.join('; ')}`);
  }
  const now = new Date().toISOString();
  const traceparent = currentTraceparent() ?? causality.traceparent;
  const envelopes: CloudEvent[] = events.map((event) => ({
    specversion: '1.0',
    id: randomUUID(),
    source,
    type: event.type,
    subject: event.subject,
    time: now,
    datacontenttype: 'application/json',
    data: event.data,
    correlationid: causality.correlationId,
    ...(causality.causationId ? { causationid: causality.causationId } : {}),
    ...(event.aggregateVersion !== undefined ? { aggregateversion: event.aggregateVersion } : {}),
    ...(traceparent ? { traceparent } : {}),
  }));
  await trx
    .withSchema(schema)
    .insertInto('outbox')
    .values(
      envelopes.map((e) => ({
        id: e.id,
        type: e.type,
        source: e.source,
        subject: e.subject,
        time: e.time,
        data: JSON.stringify(e.data),
        correlation_id: e.correlationid,
        causation_id: e.causationid ?? null,
        aggregate_version: e.aggregateversion ?? null,
        // Only when traced, so an untraced insert is the statement it always was.
        ...(e.traceparent ? { traceparent: e.traceparent } : {}),
      })),
    )
    .execute();
  return envelopes;
}

interface OutboxRow {
  seq: number;
  id: string;
  type: string;
  source: string;
  subject: string;
  time: Date | string;
  data: unknown;
  correlation_id: string;
  causation_id: string | null;
  aggregate_version: number | null;
  traceparent?: string | null;
}

/** Rebuilds the CloudEvent that an outbox row stores. */
export function outboxRowToEvent(row: OutboxRow): CloudEvent {
  return {
    specversion: '1.0',
    id: row.id,
    source: row.source,
    type: row.type,
    subject: row.subject,
    time: new Date(row.time).toISOString(),
    datacontenttype: 'application/json',
    data: typeof row.data === 'string' ? JSON.parse(row.data) : row.data,
    correlationid: row.correlation_id,
    ...(row.causation_id ? { causationid: row.causation_id } : {}),
    ...(row.aggregate_version !== null ? { aggregateversion: row.aggregate_version } : {}),
    ...(row.traceparent ? { traceparent: row.traceparent } : {}),
  };
}

/**
 * Reads up to `limit` unpublished outbox rows in commit order. With `lock`, inside the caller's
 * transaction, the rows are claimed `FOR UPDATE SKIP LOCKED` until it ends.
 */
export async function readUnpublished(
  db: AnyDb,
  schema: string,
  limit: number,
  options: { lock?: boolean } = {},
): Promise<{ seq: number; event: CloudEvent }[]> {
  let query = db
    .withSchema(schema)
    .selectFrom('outbox')
    .selectAll()
    .where('published_at', 'is', null)
    .orderBy('seq')
    .limit(limit);
  if (options.lock) query = query.forUpdate().skipLocked();
  const rows = (await query.execute()) as OutboxRow[];
  return rows.map((row) => ({ seq: Number(row.seq), event: outboxRowToEvent(row) }));
}

/** Marks outbox rows published (in the claiming transaction when there is one). */
export async function markPublished(db: AnyDb, schema: string, seqs: number[]): Promise<void> {
  if (seqs.length === 0) return;
  await db
    .withSchema(schema)
    .updateTable('outbox')
    .set({ published_at: sql`now()` })
    .where('seq', 'in', seqs)
    .execute();
}
