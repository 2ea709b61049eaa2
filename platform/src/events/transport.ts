import type { CloudEvent } from './events.ts';

/** What a consumer does with one event; throwing means "retry later". */
export type EventHandler = (event: CloudEvent) => Promise<void>;

/** Called once an event has failed `attempts` times and will not be delivered again. */
export type DeadLetterHandler = (event: CloudEvent, error: string, attempts: number) => Promise<void>;

export interface SubscribeOptions {
  /** Durable consumer name: replicas with the same name share the work. */
  consumer: string;
  types: string[];
  /**
   * The event sources (producing subgraphs) those types come from. A transport that keeps one
   * stream per source (NATS) reads only these streams; without it, every stream.
   */
  sources?: string[];
  handler: EventHandler;
  onDeadLetter: DeadLetterHandler;
}

export interface Subscription {
  stop(): Promise<void>;
}

/**
 * The event backbone seen by relays and consumers. Delivery is at-least-once; the publisher may
 * send an event twice (the transport deduplicates by event id where it can, the inbox always does).
 * Events of one subject are delivered in publish order.
 */
export interface EventTransport {
  readonly name: string;
  /** Declares a durable consumer before anything is published, so it receives every event of its types. */
  declare(consumer: string, types: string[], sources?: string[]): Promise<void>;
  publish(events: CloudEvent[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /**
   * Per consumer, how many events of `source` it has not yet acknowledged (pending, waiting for a
   * retry or in flight): the consumer lag the producer's metrics report. Dead-lettered ones are not lag.
   */
  lag?(source: string): Promise<ConsumerLag[]>;
  close(): Promise<void>;
}

export interface ConsumerLag {
  consumer: string;
  pending: number;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 60_000 };

/** Exponential backoff with full jitter for the n-th failed attempt (1-based). */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
