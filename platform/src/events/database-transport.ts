import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { AnyDb } from '../db/db.ts';
import type { CloudEvent } from './events.ts';
import type { Signals } from '../core/signals.ts';
import {
  backoffDelay,
  DEFAULT_RETRY,
  type ConsumerLag,
  type EventTransport,
  type RetryPolicy,
  type SubscribeOptions,
  type Subscription,
} from './transport.ts';

const BUS_DDL = `
create schema if not exists bus;
create table if not exists bus.message (
  seq bigserial primary key,
  id uuid not null unique,
  type text not null,
  subject text not null,
  event jsonb not null,
  published_at timestamptz not null default now()
);
create table if not exists bus.subscription (
  consumer text not null,
  type text not null,
  primary key (consumer, type)
);
create table if not exists bus.delivery (
  consumer text not null,
  message_seq bigint not null references bus.message (seq),
  subject text not null,
  state text not null default 'pending' check (state in ('pending', 'done', 'dead')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  primary key (consumer, message_seq)
);
create index if not exists delivery_pending on bus.delivery (consumer, message_seq) where state = 'pending';
`;

export interface DatabaseTransportOptions {
  db: AnyDb;
  signals: Signals;
  log: Logger;
  retry?: RetryPolicy;
  pollMs?: number;
  batchSize?: number;
  /** Deliveries of one consumer in flight at once, each of a different subject (default 4). */
  concurrency?: number;
}

/**
 * The embedded event backbone: a durable queue in the database's `bus` schema. Publishing stores
 * the message once (deduplicated by event id) and one delivery row per declared consumer; each
 * consumer works through its deliveries in order, holding back later events of a subject while an
 * earlier one waits for a retry, and moving an event to dead letters after the last attempt.
 */
export class DatabaseTransport implements EventTransport {
  readonly name = 'database';
  private readonly retry: RetryPolicy;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private ready: Promise<void> | null = null;
  private readonly loops = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly options: DatabaseTransportOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.pollMs = options.pollMs ?? 1000;
    this.batchSize = options.batchSize ?? 100;
    this.concurrency = options.concurrency ?? 4;
  }

  private init(): Promise<void> {
    this.ready ??= this.options.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('c2c.migrate.bus'))`.execute(trx);
      await sql.raw(BUS_DDL).execute(trx);
    });
    return this.ready;
  }

  async declare(consumer: string, types: string[]): Promise<void> {
    await this.init();
    await this.options.db.transaction().execute(async (trx) => {
      for (const type of types) {
        const inserted = await trx
          .insertInto('bus.subscription')
          .values({ consumer, type })
          .onConflict((oc) => oc.doNothing())
          .returning('type')
          .executeTakeFirst();
        if (!inserted) continue;
        // A new subscription starts from the first stored event of its type (JetStream's DeliverAll).
        await sql`
          insert into bus.delivery (consumer, message_seq, subject)
          select ${consumer}, seq, subject from bus.message where type = ${type}
          on conflict do nothing`.execute(trx);
      }
    });
  }

  async publish(events: CloudEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.init();
    const consumers = new Set<string>();
    await this.options.db.transaction().execute(async (trx) => {
      for (const event of events) {
        const stored = await trx
          .insertInto('bus.message')
          .values({ id: event.id, type: event.type, subject: event.subject, event: JSON.stringify(event) })
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('seq')
          .executeTakeFirst();
        if (!stored) continue;
        const targets = await sql<{ consumer: string }>`
          insert into bus.delivery (consumer, message_seq, subject)
          select consumer, ${stored.seq}, ${event.subject} from bus.subscription where type = ${event.type}
          returning consumer`.execute(trx);
        for (const row of targets.rows) consumers.add(row.consumer);
      }
    });
    for (const consumer of consumers) this.options.signals.notify(`bus:${consumer}`);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    await this.declare(options.consumer, options.types);
    const stopped = new AbortController();
    const loop = this.consume(options, stopped.signal);
    this.loops.add(loop);
    return {
      stop: async () => {
        stopped.abort();
        await loop;
        this.loops.delete(loop);
      },
    };
  }

  private async consume(options: SubscribeOptions, stopped: AbortSignal): Promise<void> {
    const { db, signals, log } = this.options;
    const isStopped = () => stopped.aborted || this.abort.signal.aborted;
    while (!isStopped()) {
      let worked = false;
      try {
        // Oldest pending delivery per subject only: later events of a subject wait for earlier ones.
        const due = await sql<{ message_seq: number; attempts: number; event: CloudEvent | string }>`
          select d.message_seq, d.attempts, m.event
          from bus.delivery d join bus.message m on m.seq = d.message_seq
          where d.consumer = ${options.consumer} and d.state = 'pending' and d.next_attempt_at <= now()
            and not exists (
              select 1 from bus.delivery e
              where e.consumer = d.consumer and e.subject = d.subject and e.state = 'pending'
                and e.message_seq < d.message_seq)
          order by d.message_seq
          limit ${this.batchSize}`.execute(db);
        // The batch holds at most one delivery per subject (the oldest), so its deliveries are
        // independent: up to `concurrency` of them run at once; order within a subject is kept.
        const rows = due.rows;
        let next = 0;
        const worker = async () => {
          while (next < rows.length && !isStopped()) {
            const row = rows[next++] as (typeof rows)[number];
            worked = true;
            const event = typeof row.event === 'string' ? (JSON.parse(row.event) as CloudEvent) : row.event;
            await this.deliver(options, row.message_seq, row.attempts, event);
          }
        };
        const results = await Promise.allSettled(
          Array.from({ length: Math.min(this.concurrency, rows.length) }, worker),
        );
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      } catch (error) {
        if (isStopped()) break;
        log.error({ err: error, consumer: options.consumer }, 'event consumer poll failed');
      }
      if (!worked) {
        await signals.wait(
          `bus:${options.consumer}`,
          this.pollMs,
          AbortSignal.any([stopped, this.abort.signal]),
        );
      }
    }
  }

  private async deliver(
    options: SubscribeOptions,
    seq: number,
    attempts: number,
    event: CloudEvent,
  ): Promise<void> {
    const { db, log } = this.options;
    const key = { consumer: options.consumer, seq };
    try {
      await options.handler(event);
      await sql`update bus.delivery set state = 'done', attempts = ${attempts + 1}, last_error = null
        where consumer = ${key.consumer} and message_seq = ${key.seq}`.execute(db);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const attempt = attempts + 1;
      if (attempt >= this.retry.maxAttempts) {
        await options.onDeadLetter(event, message, attempt);
        await sql`update bus.delivery set state = 'dead', attempts = ${attempt}, last_error = ${message}
          where consumer = ${key.consumer} and message_seq = ${key.seq}`.execute(db);
        log.error(
          {
            consumer: options.consumer,
            eventId: event.id,
            type: event.type,
            correlationId: event.correlationid,
            attempts: attempt,
            error: message,
          },
          'event dead-lettered',
        );
      } else {
        const delay = backoffDelay(this.retry, attempt);
        await sql`update bus.delivery set attempts = ${attempt}, last_error = ${message},
          next_attempt_at = now() + make_interval(secs => ${delay / 1000})
          where consumer = ${key.consumer} and message_seq = ${key.seq}`.execute(db);
        log.warn(
          {
            consumer: options.consumer,
            eventId: event.id,
            type: event.type,
            correlationId: event.correlationid,
            attempt,
            retryInMs: delay,
            error: message,
          },
          'event handler failed; will retry',
        );
      }
    }
  }

  /** Pending deliveries of `source`'s events per declared consumer (zero included). */
  async lag(source: string): Promise<ConsumerLag[]> {
    await this.init();
    const { rows } = await sql<{ consumer: string; pending: number | string }>`
      select s.consumer, count(d.message_seq) as pending
      from (select distinct consumer from bus.subscription) s
      left join bus.delivery d on d.consumer = s.consumer and d.state = 'pending'
        and exists (select 1 from bus.message m where m.seq = d.message_seq and m.event->>'source' = ${source})
      group by s.consumer
      order by s.consumer`.execute(this.options.db);
    return rows.map((row) => ({ consumer: row.consumer, pending: Number(row.pending) }));
  }

  async close(): Promise<void> {
    this.abort.abort();
    await Promise.all([...this.loops]);
  }
}
