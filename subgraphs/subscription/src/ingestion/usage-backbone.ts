import { createHash } from 'node:crypto';
import type { DomainError } from '@c2c/platform/core';
import type { AnyDb } from '@c2c/platform/db';
import {
  startNatsWorkQueue,
  type RetryPolicy,
  type RunningWorkQueue,
  type WorkQueueMessage,
  type WorkQueueVerdict,
} from '@c2c/platform/events';
import { storable } from '@c2c/platform/graphql';
import type { Logger } from '@c2c/platform/core';
import { insertUsageRejections, type UsageRejection } from '../data/usage.repository.ts';
import { SCHEMA } from '../data/tables.ts';
import { MAX_EVENTS_PER_CALL } from '../domain/usage.rules.ts';
import type { UsageBatchResult, UsageEventInput, UsageService } from '../domain/usage.service.ts';

/*
 * Usage ingestion over the event backbone (docs/usage.md, "Over the event backbone"): in the
 * scaled-out shape (NATS_URL set) billing consumes the work-queue stream `<PREFIX>_INGEST_USAGE`,
 * subject `<prefix>.ingest.usage` (`c2c.ingest.usage` by default), whose messages follow the contract
 * schema/events/ingest/usage.ingest.v1.schema.json: a producer id, the producer's batch id and 1–1,000
 * events with the fields and rules of usage.RecordUsage.
 *
 * Exactly once: an event counts once by its id however often its message is delivered (the same
 * insert … on conflict do nothing as the GraphQL path). Up to `batch` messages that arrived together
 * are recorded in one transaction with multi-row statements, together with what was refused of
 * them (usage_rejected_event, keyed by message and event index) and one audit row per message; the
 * messages are acknowledged only after that transaction commits. A crash before the ack redelivers
 * them: their events are duplicates then, their refusals already recorded.
 */

/** The version of the payload this consumer reads (`version` in the message). */
export const USAGE_INGEST_VERSION = 1;
/** The producer id and batch id: printable ASCII, like an event id. */
const SOURCE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
const BATCH_ID = /^[\x21-\x7e]{1,255}$/;

export interface UsageBackboneSettings {
  /** Comma-separated NATS URLs. */
  servers: string;
  /** Stream name prefix, as the event transport's (default `C2C`). */
  streamPrefix: string;
  replicas: number;
  ackWaitMs: number;
  /** Messages recorded in one transaction at most. */
  batch: number;
  /** Transactions in flight in this replica. */
  concurrency: number;
  /** Deliveries after which a message that fails alone is refused whole (MESSAGE_FAILED). */
  retry: RetryPolicy;
}

export const DEFAULT_BACKBONE_RETRY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 500, maxDelayMs: 60_000 };

/** The stream, subject and durable consumer for a stream prefix. */
export function usageBackboneNames(streamPrefix = 'C2C') {
  return {
    stream: `${streamPrefix}_INGEST_USAGE`,
    subject: `${streamPrefix.toLowerCase()}.ingest.usage`,
    consumer: 'subscription_usage_ingest',
  };
}

/** The payload of one usage message (version 1), as read: anything may be wrong with it. */
interface UsageMessage {
  version: number;
  source: string;
  batchId: string;
  events: unknown[];
}

type Parsed =
  | { ok: true; key: string; message: UsageMessage; text: string }
  | { ok: false; key: string; rejection: UsageRejection };

/** Reads one message: a usage batch, or the reason it is refused whole. */
export function parseUsageMessage(data: Uint8Array | string, seq: number): Parsed {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  const refuse = (code: string, message: string, found?: Partial<UsageMessage>): Parsed => {
    const source = typeof found?.source === 'string' && SOURCE.test(found.source) ? found.source : null;
    const batchId = typeof found?.batchId === 'string' && BATCH_ID.test(found.batchId) ? found.batchId : null;
    const key = source && batchId ? `${source}/${batchId}` : `seq:${seq}`;
    return {
      ok: false,
      key,
      rejection: {
        message_key: key,
        event_index: -1,
        source,
        batch_id: batchId,
        event_id: null,
        code,
        field: null,
        message,
        payload: storable(text) as string,
      },
    };
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return refuse('INVALID_MESSAGE', `the message is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return refuse('INVALID_MESSAGE', 'the message is not a JSON object');
  const message = value as Partial<UsageMessage>;
  if (message.version !== USAGE_INGEST_VERSION)
    return refuse(
      'UNSUPPORTED_VERSION',
      `version ${JSON.stringify(message.version)} is not one this billing reads (${USAGE_INGEST_VERSION})`,
      message,
    );
  if (typeof message.source !== 'string' || !SOURCE.test(message.source))
    return refuse('INVALID_MESSAGE', 'source must be 1–100 characters: letters, digits, . _ : -', message);
  if (typeof message.batchId !== 'string' || !BATCH_ID.test(message.batchId))
    return refuse('INVALID_MESSAGE', 'batchId must be 1–255 printable ASCII characters', message);
  const events = message.events;
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS_PER_CALL)
    return refuse(
      'INVALID_BATCH_SIZE',
      `a message carries 1–${MAX_EVENTS_PER_CALL} events, got ${Array.isArray(events) ? events.length : 'none'}`,
      message,
    );
  return { ok: true, key: `${message.source}/${message.batchId}`, message: message as UsageMessage, text };
}

/** The outcome of one handled message, for the caller's metrics and tests. */
export interface UsageMessageOutcome {
  key: string;
  verdict: WorkQueueVerdict;
  result: UsageBatchResult | null;
  /** The code when the message was refused whole. */
  rejected: string | null;
}

/**
 * Handles messages of the usage stream: one transaction for all of them when it can, one per
 * message when that transaction fails (so that one bad message does not hold back the others).
 */
export class UsageBackboneHandler {
  constructor(
    private readonly db: AnyDb,
    private readonly usage: UsageService,
    private readonly log: Logger,
    private readonly retry: RetryPolicy,
  ) {}

  async handle(messages: readonly WorkQueueMessage[]): Promise<UsageMessageOutcome[]> {
    const parsed = messages.map((m) => parseUsageMessage(m.data, m.seq));
    try {
      return await this.record(messages, parsed);
    } catch (error) {
      if (messages.length > 1) {
        this.log.warn(
          { err: error, messages: messages.length },
          'usage messages failed together; recording them one by one',
        );
        const outcomes: UsageMessageOutcome[] = [];
        for (const [i, message] of messages.entries())
          outcomes.push(...(await this.handleAlone(message, parsed[i]!)));
        return outcomes;
      }
      return this.failedAlone(messages[0]!, parsed[0]!, error);
    }
  }

  private async handleAlone(message: WorkQueueMessage, parsed: Parsed): Promise<UsageMessageOutcome[]> {
    try {
      return await this.record([message], [parsed]);
    } catch (error) {
      return this.failedAlone(message, parsed, error);
    }
  }

  /** A message that fails on its own: retried later, refused whole on its last delivery. */
  private async failedAlone(
    message: WorkQueueMessage,
    parsed: Parsed,
    error: unknown,
  ): Promise<UsageMessageOutcome[]> {
    const reason = error instanceof Error ? error.message : String(error);
    const retry = (): UsageMessageOutcome[] => {
      this.usage.counters.messages.retried += 1;
      const delay = Math.min(
        this.retry.maxDelayMs,
        this.retry.baseDelayMs * 2 ** (message.deliveryCount - 1),
      );
      return [{ key: parsed.key, verdict: { retryInMs: delay }, result: null, rejected: null }];
    };
    if (message.deliveryCount < this.retry.maxAttempts) {
      this.log.warn(
        { key: parsed.key, seq: message.seq, attempt: message.deliveryCount, error: reason },
        'usage message failed; it will be redelivered',
      );
      return retry();
    }
    const text = Buffer.from(message.data).toString('utf8');
    const rejection: UsageRejection = parsed.ok
      ? {
          message_key: parsed.key,
          event_index: -1,
          source: parsed.message.source,
          batch_id: parsed.message.batchId,
          event_id: null,
          code: 'MESSAGE_FAILED',
          field: null,
          message: storable(`failed on each of ${message.deliveryCount} deliveries: ${reason}`) as string,
          payload: storable(text) as string,
        }
      : parsed.rejection;
    try {
      await this.db.transaction().execute((trx) => insertUsageRejections(trx, [rejection]));
    } catch (again) {
      this.log.error({ err: again, key: parsed.key }, 'could not record a failed usage message; retrying');
      return retry();
    }
    this.usage.counters.messages.rejected += 1;
    this.log.error(
      { key: parsed.key, seq: message.seq, attempts: message.deliveryCount, error: reason },
      'usage message refused after its last delivery (usage_rejected_event, MESSAGE_FAILED)',
    );
    return [{ key: parsed.key, verdict: 'term', result: null, rejected: 'MESSAGE_FAILED' }];
  }

  private async record(
    messages: readonly WorkQueueMessage[],
    parsed: readonly Parsed[],
  ): Promise<UsageMessageOutcome[]> {
    const readable = parsed.flatMap((p, i) => (p.ok ? [{ ...p, seq: messages[i]!.seq }] : []));
    const { results, eventRefusals, messageRefusals } = await this.db.transaction().execute(async (trx) => {
      const results = await this.usage.recordBatchesIn(
        trx,
        readable.map((p) => p.message.events as UsageEventInput[]),
      );
      const rows: UsageRejection[] = [];
      for (const [i, p] of readable.entries())
        for (const error of results[i]!.errors) rows.push(refusedEvent(p.key, p.message, error));
      const eventRefusals = await insertUsageRejections(trx, rows);
      const messageRefusals = await insertUsageRejections(
        trx,
        parsed.flatMap((p) => (p.ok ? [] : [p.rejection])),
      );
      await appendAudit(trx, readable, results);
      return { results, eventRefusals, messageRefusals };
    });
    // Refusals of a redelivered message were counted when it was first recorded.
    this.usage.committed(results, eventRefusals);
    this.usage.counters.messages.processed += readable.length;
    this.usage.counters.messages.rejected += messageRefusals;
    let next = 0;
    return parsed.map((p) =>
      p.ok
        ? { key: p.key, verdict: 'ack' as const, result: results[next++]!, rejected: null }
        : { key: p.key, verdict: 'ack' as const, result: null, rejected: p.rejection.code },
    );
  }
}

/** An event's index from the error's field (`events[3].quantity` → 3). */
function indexOf(error: DomainError): number {
  return Number(/^events\[(\d+)\]/.exec(error.field ?? '')?.[1] ?? -1);
}

function refusedEvent(key: string, message: UsageMessage, error: DomainError): UsageRejection {
  const index = indexOf(error);
  const event = message.events[index] as { id?: unknown } | undefined;
  return {
    message_key: key,
    event_index: index,
    source: message.source,
    batch_id: message.batchId,
    event_id: typeof event?.id === 'string' ? (storable(event.id.slice(0, 255)) as string) : null,
    code: error.code,
    field: error.field,
    message: storable(error.message) as string,
    payload: storable(JSON.stringify(event ?? null)) as string,
  };
}

/**
 * One audit row per message, as the GraphQL path has one per call: the producer as the principal,
 * the batch id as the correlation id, and for variables the event count and a digest of the
 * message (not the events themselves: the events are stored, the audit says who sent what).
 */
async function appendAudit(
  trx: AnyDb,
  messages: readonly { key: string; seq: number; message: UsageMessage; text: string }[],
  results: readonly UsageBatchResult[],
): Promise<void> {
  if (messages.length === 0) return;
  await trx
    .withSchema(SCHEMA)
    .insertInto('audit_log')
    .values(
      messages.map((m, i) => {
        const codes = [...new Set(results[i]!.errors.map((e) => e.code))];
        return {
          principal: `backbone:${m.message.source}`,
          role: 'telemetry',
          operation: `usage.ingest.v${USAGE_INGEST_VERSION}`,
          fields: JSON.stringify(['recordUsage']),
          variables: JSON.stringify({
            batchId: m.message.batchId,
            events: m.message.events.length,
            sha256: createHash('sha256').update(m.text).digest('hex'),
            streamSequence: m.seq,
          }),
          result: codes.length ? 'USER_ERROR' : 'OK',
          codes: JSON.stringify(codes),
          correlation_id: m.message.batchId,
          request_id: `${m.key}#${m.seq}`,
        };
      }),
    )
    .execute();
}

/** Reads the backbone settings from the environment; null when NATS_URL is not set (the embedded shape). */
export function usageBackboneSettingsFrom(
  env: Readonly<Record<string, string | undefined>>,
): UsageBackboneSettings | null {
  if (!env.NATS_URL) return null;
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return value;
  };
  return {
    servers: env.NATS_URL,
    streamPrefix: env.NATS_STREAM_PREFIX || 'C2C',
    replicas: int('NATS_STREAM_REPLICAS', 1, 1, 5),
    ackWaitMs: int('NATS_ACK_WAIT_MS', 30_000, 1000, 600_000),
    batch: int('USAGE_INGEST_BATCH', 8, 1, 100),
    concurrency: int('USAGE_INGEST_CONCURRENCY', 4, 1, 16),
    retry: DEFAULT_BACKBONE_RETRY,
  };
}

/** Starts consuming the usage stream into billing (the scaled-out shape). */
export async function startUsageBackbone(options: {
  db: AnyDb;
  usage: UsageService;
  log: Logger;
  settings: UsageBackboneSettings;
}): Promise<RunningWorkQueue> {
  const { settings } = options;
  const names = usageBackboneNames(settings.streamPrefix);
  const handler = new UsageBackboneHandler(options.db, options.usage, options.log, settings.retry);
  return startNatsWorkQueue({
    servers: settings.servers,
    log: options.log,
    connectionName: 'c2c-subscription-usage',
    stream: {
      name: names.stream,
      subjects: [names.subject],
      description:
        'usage events reported by product platforms (schema/events/ingest/usage.ingest.v1.schema.json)',
      replicas: settings.replicas,
    },
    consumer: names.consumer,
    batch: settings.batch,
    concurrency: settings.concurrency,
    ackWaitMs: settings.ackWaitMs,
    retry: settings.retry,
    handle: async (messages) => (await handler.handle(messages)).map((outcome) => outcome.verdict),
  });
}
