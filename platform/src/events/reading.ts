import type { Logger } from 'pino';
import type { AnyTransaction } from '../db/db.ts';
import type { CloudEvent } from './events.ts';

// What a consumer is made of — effects, readers, the dead-letter reaction — without the machinery
// that runs them (consumer.ts): a subgraph's consumer modules and the contract tests import only this.

/** Applies one event inside the consumer's transaction (inbox row already written). */
export type EventEffect = (trx: AnyTransaction, event: CloudEvent, log: Logger) => Promise<void>;

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
