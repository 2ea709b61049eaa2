import { retryOnConnectionLoss } from '../core/connection-loss.ts';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { AnyDb, AnyTransaction } from '../db/db.ts';
import { trackAppends, type CloudEvent } from './events.ts';
import { faultPoint } from '../core/faults.ts';
import { traceEvent, traceLogFields, TRACE_ATTRIBUTES } from '../observability/tracing.ts';
import type { DeadLetterEffect, EventEffect } from './reading.ts';
import type { EventTransport, Subscription } from './transport.ts';
import { DbLeaseStore } from './lease.ts';
import { holdingInserts } from '../db/held-inserts.ts';
import { runsOf } from './runs.ts';

export interface ConsumerOptions {
  db: AnyDb;
  schema: string;
  consumer: string;
  handlers: Record<string, EventEffect>;
  /** The sources the handled types come from (see SubscribeOptions.sources). */
  sources?: string[];
  transport: EventTransport;
  log: Logger;
  /** Called after a transaction that may have appended to the outbox commits. */
  afterCommit?: () => void;
  /**
   * Called once the event's effect is committed — also when a redelivery finds it applied already
   * (the first run may have stopped before calling): the gateway's entity cache evicts what it changed.
   */
  onApplied?: (event: CloudEvent) => void;
  /**
   * Runs in the transaction that records a dead letter, so a subgraph can react (e.g. announce
   * that a workflow step failed) atomically with it.
   */
  onDeadLetter?: DeadLetterEffect;
  /**
   * Where the transport batches (NATS): the name this subscription holds its partition leases
   * under (default one of its own) and how long a lease lasts unrenewed (default 10 s).
   */
  leaseHolder?: string;
  leaseMs?: number;
}

/**
 * Applies an event exactly once: the inbox row `(consumer, event id)` and the effect commit in one
 * transaction, so a redelivered event finds its inbox row and does nothing.
 * Returns false when the event had already been applied. Traced as a span continuing the event's trace.
 */
export function applyOnce(options: Omit<ConsumerOptions, 'transport'>, event: CloudEvent): Promise<boolean> {
  const target = { subgraph: options.schema, consumer: options.consumer, operation: 'process' } as const;
  return traceEvent(event, target, async (span) => {
    const applied = await applyInTransaction(options, event);
    span.setAttribute(TRACE_ATTRIBUTES.applied, applied);
    return applied;
  });
}

async function applyInTransaction(
  options: Omit<ConsumerOptions, 'transport'>,
  event: CloudEvent,
): Promise<boolean> {
  const { db, schema, consumer, handlers, log } = options;
  const handler = handlers[event.type];
  const eventLog = log.child({
    consumer,
    eventId: event.id,
    eventType: event.type,
    correlationId: event.correlationid,
    ...traceLogFields(),
  });
  // An effect with an external write prepares it first, outside the transaction, unless the event
  // was already applied (a redelivery): the external write is idempotent, this only saves the call.
  let prepared: unknown;
  if (handler?.prepare) {
    const done = await db
      .withSchema(schema)
      .selectFrom('inbox')
      .select('event_id')
      .where('consumer', '=', consumer)
      .where('event_id', '=', event.id)
      .executeTakeFirst();
    if (done) {
      options.onApplied?.(event);
      return false;
    }
    prepared = await handler.prepare(event, eventLog);
  }
  // Safe to repeat on a new connection: the inbox row makes the second run a no-op if the first committed.
  const { result: applied, appended } = await trackAppends(() =>
    retryOnConnectionLoss(() =>
      db.transaction().execute(async (trx) => {
        const fresh = await trx
          .withSchema(schema)
          .insertInto('inbox')
          .values({ consumer, event_id: event.id, event_type: event.type })
          .onConflict((oc) => oc.doNothing())
          .returning('event_id')
          .executeTakeFirst();
        if (!fresh) return false;
        if (handler) await handler(trx, event, eventLog, prepared);
        return true;
      }),
    ),
  );
  if (applied) eventLog.debug('event applied');
  // Only a commit that appended to the outbox wakes the relay.
  if (applied && appended) options.afterCommit?.();
  options.onApplied?.(event);
  return applied;
}

/**
 * Applies `events` in one transaction, in their order per subject: `fence` first (a batching
 * transport's proof that this process still owns their partition), then one inbox statement for
 * them all, then the effect of each event new to the inbox — each in its own span, continuing its
 * trace — or, for effects that apply many at once, of each run of them (`runsOf`). An event
 * already in the inbox (a redelivery) or twice in the batch is applied once. Any failure rolls
 * the whole batch back (the transport then applies its events one at a time, to find the culprit).
 * Returns how many events were applied now.
 */
export async function applyBatch(
  options: Omit<ConsumerOptions, 'transport'>,
  events: CloudEvent[],
  fence: (trx: AnyTransaction) => Promise<void>,
): Promise<number> {
  const { db, schema, consumer, handlers, log } = options;
  if (events.length === 0) return 0;
  const logOf = (event: CloudEvent) =>
    log.child({ consumer, eventId: event.id, eventType: event.type, correlationId: event.correlationid });
  // External writes are prepared first, outside the transaction, for events not applied yet.
  const prepared = new Map<string, unknown>();
  const external = events.filter((event) => handlers[event.type]?.prepare);
  if (external.length > 0) {
    const done = new Set(
      (
        await db
          .withSchema(schema)
          .selectFrom('inbox')
          .select('event_id')
          .where('consumer', '=', consumer)
          .where(
            'event_id',
            'in',
            external.map((e) => e.id),
          )
          .execute()
      ).map((row) => row.event_id as string),
    );
    for (const event of external)
      if (!done.has(event.id) && !prepared.has(event.id))
        prepared.set(event.id, await handlers[event.type]!.prepare!(event, logOf(event)));
  }
  const target = { subgraph: schema, consumer, operation: 'process' } as const;
  // A batch of one is traced as applyOnce is: the whole transaction in the event's span. In a
  // larger batch each event's span holds its effect's statements; the batch's own (BEGIN, the
  // fence, the inbox, COMMIT) belong to no single trace and are not recorded (docs/tracing.md).
  const alone = events.length === 1;
  const run = (work: () => Promise<number>) =>
    alone
      ? traceEvent(events[0]!, target, async (span) => {
          const count = await work();
          span.setAttribute(TRACE_ATTRIBUTES.applied, count > 0);
          return count;
        })
      : work();
  const { result: applied, appended } = await trackAppends(() =>
    run(() =>
      retryOnConnectionLoss(() =>
        db.transaction().execute(async (trx) => {
          await fence(trx);
          const fresh = new Set(
            (
              await trx
                .withSchema(schema)
                .insertInto('inbox')
                .values(events.map((e) => ({ consumer, event_id: e.id, event_type: e.type })))
                .onConflict((oc) => oc.doNothing())
                .returning('event_id')
                .execute()
            ).map((row) => row.event_id as string),
          );
          let count = 0;
          let midway = false;
          const applied = () => {
            // A crash here leaves the batch uncommitted and its messages unacknowledged.
            if (!midway && events.length > 1 && count >= Math.ceil(events.length / 2)) {
              midway = true;
              faultPoint('consumer.mid-batch');
            }
          };
          // The effects' inserts that return nothing (outbox rows, journal lines, …) are held and
          // sent together before the next other statement (held-inserts.ts): fewer round trips per
          // event. One that fails does so at that flush, still in this transaction, which rolls back.
          const held = holdingInserts(trx);
          const todo = events.filter((event) => fresh.delete(event.id));
          for (const run of runsOf(todo, handlers)) {
            const event = run[0]!;
            const handler = handlers[event.type];
            // A run of events sharing an effect that applies many at once: one call, its
            // statements shared by them all (in no single event's trace, like the batch's own).
            if (run.length > 1) {
              await handler!.many!(
                held.trx,
                run.map((e) => ({ event: e, log: logOf(e) })),
              );
              for (const e of run)
                await traceEvent(e, target, async (span) => {
                  span.setAttribute(TRACE_ATTRIBUTES.applied, true);
                });
            } else if (handler && alone) await handler(held.trx, event, logOf(event), prepared.get(event.id));
            else if (handler)
              await traceEvent(event, target, async (span) => {
                span.setAttribute(TRACE_ATTRIBUTES.applied, true);
                await handler(held.trx, event, logOf(event), prepared.get(event.id));
              });
            count += run.length;
            applied();
          }
          await held.flush();
          return count;
        }),
      ),
    ),
  );
  if (applied && appended) options.afterCommit?.();
  for (const event of events) options.onApplied?.(event);
  return applied;
}

/**
 * How long a batching consumer's partition lease lasts unrenewed (renewed every third of it, one
 * statement for all of a subscription's partitions): a replica that died holding partitions is
 * replaced after this plus the deliveries' ack wait (nats-partition.ts).
 */
const PARTITION_LEASE_MS = 10_000;

/** Subscribes a consumer to its event types, dead-lettering into `schema.dead_letter`. */
export function startConsumer(options: ConsumerOptions): Promise<Subscription> {
  const { db, schema, consumer, transport } = options;
  const leases = new DbLeaseStore(db, schema, options.leaseMs ?? PARTITION_LEASE_MS, options.leaseHolder);
  return transport.subscribe({
    consumer,
    types: Object.keys(options.handlers),
    sources: options.sources,
    batch: {
      leases,
      apply: async (events, lease) => {
        // A crash after this commit leaves the batch's messages unacknowledged: they come again and find their inbox rows.
        if ((await applyBatch(options, events, (trx) => leases.fence(trx, lease))) > 0)
          faultPoint('consumer.after-commit');
      },
    },
    handler: async (event) => {
      // A crash at this point leaves the delivery pending: it comes again and finds its inbox row.
      if (await applyOnce(options, event)) faultPoint('consumer.after-commit');
    },
    onDeadLetter: async (event, error, attempts) => {
      const target = { subgraph: schema, consumer, operation: 'dead-letter' } as const;
      // Traced, so the events the dead-letter hook appends (posting.failed …) continue the trace.
      const { appended } = await traceEvent(event, target, (span) => {
        span.setAttributes({ 'c2c.event.attempts': attempts, 'error.type': 'dead-lettered' });
        return trackAppends(() =>
          db.transaction().execute(async (trx) => {
            // A verdict can come twice (a lost `term` on NATS, the max-deliveries safety net): an event
            // already applied, or already dead and not replayed, must not run the hook a second time.
            const applied = await trx
              .withSchema(schema)
              .selectFrom('inbox')
              .select('event_id')
              .where('consumer', '=', consumer)
              .where('event_id', '=', event.id)
              .executeTakeFirst();
            if (applied) return;
            const dead = await trx
              .withSchema(schema)
              .selectFrom('dead_letter')
              .select('replayed_at')
              .where('consumer', '=', consumer)
              .where('event_id', '=', event.id)
              .forUpdate()
              .executeTakeFirst();
            if (dead && dead.replayed_at === null) {
              await trx
                .withSchema(schema)
                .updateTable('dead_letter')
                .set({ error, attempts })
                .where('consumer', '=', consumer)
                .where('event_id', '=', event.id)
                .execute();
              return;
            }
            await trx
              .withSchema(schema)
              .insertInto('dead_letter')
              .values({
                consumer,
                event_id: event.id,
                event_type: event.type,
                subject: event.subject,
                event: JSON.stringify(event),
                error,
                attempts,
              })
              .onConflict((oc) =>
                oc
                  .columns(['consumer', 'event_id'])
                  .doUpdateSet({ error, attempts, dead_at: sql`now()`, replayed_at: null }),
              )
              .execute();
            await options.onDeadLetter?.(trx, event, { consumer, error, attempts }, options.log);
          }),
        );
      });
      if (appended) options.afterCommit?.();
    },
  });
}
