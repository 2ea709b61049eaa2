import type { Logger } from 'pino';
import type { AnyTransaction } from '../db/db.ts';
import type { CloudEvent } from './events.ts';

// What a consumer is made of — effects, readers, the dead-letter reaction — without the machinery
// that runs them (consumer.ts): a subgraph's consumer modules and the contract tests import only this.

/**
 * Applies one event inside the consumer's transaction (inbox row already written). An effect that
 * writes to an external system carries `prepare`: the consumer runs it before opening the
 * transaction (never holding a transaction during a remote call) and hands its result to the
 * effect as `prepared`. `prepare` must be idempotent: it runs again on every redelivery, replay and
 * retry, and after a crash between it and the commit.
 */
export type EventEffect = ((
  trx: AnyTransaction,
  event: CloudEvent,
  log: Logger,
  prepared?: unknown,
) => Promise<void>) & {
  prepare?: (event: CloudEvent, log: Logger) => Promise<unknown>;
  /**
   * Applies several events of this effect at once, in their order, with statements for them all
   * (multi-row): a batching consumer hands it each run of consecutive events of the batch that
   * share the effect. It must leave the database as applying each event in turn would. Effects
   * with `prepare` are always applied one at a time.
   */
  many?: (trx: AnyTransaction, events: readonly { event: CloudEvent; log: Logger }[]) => Promise<void>;
};

/**
 * Like `reading`, for an effect written for many events at once (`EventEffect.many`): `applyAll`
 * gets the parsed data of one or more events, in their order, and must act as if it applied each
 * in turn. A single event is applied as a list of one, so both paths run the same code. An event
 * whose data does not parse fails the whole call (the batching consumer then applies the batch's
 * events one at a time, and dead-letters that one alone).
 */
export function readingMany<T>(
  reader: EventReader<T>,
  applyAll: (
    trx: AnyTransaction,
    items: readonly { data: T; event: CloudEvent; log: Logger }[],
  ) => Promise<void>,
): ReadingEffect<T> {
  const effect: EventEffect = (trx, event, log) =>
    applyAll(trx, [{ data: reader.parse(event.data), event, log }]);
  effect.many = (trx, events) =>
    applyAll(
      trx,
      events.map(({ event, log }) => ({ data: reader.parse(event.data), event, log })),
    );
  return Object.assign(effect, { reader });
}

/** A tolerant reader of an event's `data`: parses what the consumer uses and ignores the rest. */
export interface EventReader<T> {
  parse(data: unknown): T;
  safeParse(data: unknown): { success: true; data: T } | { success: false; error: unknown };
}

/** An effect that reads the event's data with a declared reader, kept on the effect for contract tests. */
export type ReadingEffect<T = unknown> = EventEffect & { reader: EventReader<T> };

/**
 * Builds an effect that first parses the event's `data` with `reader` (a zod schema), then
 * applies `apply`. The reader stays on the effect, so a test can check that every consumer
 * accepts whatever the event's contract (schema/events/) allows.
 */
export function reading<T>(
  reader: EventReader<T>,
  apply: (trx: AnyTransaction, data: T, event: CloudEvent, log: Logger) => Promise<void>,
): ReadingEffect<T> {
  const effect: EventEffect = (trx, event, log) => apply(trx, reader.parse(event.data), event, log);
  return Object.assign(effect, { reader });
}

/** A subgraph's reaction to one of its consumers giving up on an event. */
export type DeadLetterEffect = (
  trx: AnyTransaction,
  event: CloudEvent,
  failure: { consumer: string; error: string; attempts: number },
  log: Logger,
) => Promise<void>;

/**
 * Like `reading`, for an effect with an external write: `outside` runs first, outside any
 * transaction (idempotent: the external system finds its earlier write by our id), then `inside`
 * applies the event in the consumer's transaction with what `outside` answered.
 */
export function readingWithExternalWrite<T, R>(
  reader: EventReader<T>,
  outside: (data: T, event: CloudEvent, log: Logger) => Promise<R>,
  inside: (trx: AnyTransaction, data: T, event: CloudEvent, log: Logger, prepared: R) => Promise<void>,
): ReadingEffect<T> {
  const effect: EventEffect = async (trx, event, log, prepared) => {
    const data = reader.parse(event.data);
    // Applied without a prepare phase (a caller that runs effects itself): do the external part now.
    const external = prepared === undefined ? await outside(data, event, log) : (prepared as R);
    await inside(trx, data, event, log, external);
  };
  effect.prepare = (event, log) => outside(reader.parse(event.data), event, log);
  return Object.assign(effect, { reader });
}
