import { retryOnConnectionLoss } from '../core/connection-loss.ts';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { AnyDb } from '../db/db.ts';
import { trackAppends, type CloudEvent } from './events.ts';
import { faultPoint } from '../core/faults.ts';
import { traceEvent, traceLogFields, TRACE_ATTRIBUTES } from '../observability/tracing.ts';
import type { DeadLetterEffect, EventEffect } from './reading.ts';
import type { EventTransport, Subscription } from './transport.ts';

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

/** Subscribes a consumer to its event types, dead-lettering into `schema.dead_letter`. */
export function startConsumer(options: ConsumerOptions): Promise<Subscription> {
  const { db, schema, consumer, transport } = options;
  return transport.subscribe({
    consumer,
    types: Object.keys(options.handlers),
    sources: options.sources,
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
