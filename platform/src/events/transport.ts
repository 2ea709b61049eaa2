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
  /**
   * Batches, where the transport can keep per-subject order with several events in flight (NATS:
   * one replica owns a partition at a time, see nats-partition.ts). Without it, or on a transport
   * that does not batch, `handler` gets one event at a time.
   */
  batch?: BatchSubscribe;
}

/** What a consumer that applies events in batches gives the transport. */
export interface BatchSubscribe {
  /**
   * Applies `events` in their order in one transaction whose first statement proves (and renews)
   * this process's `lease`; throws LeaseLostError, having applied nothing, when another holds it.
   */
  apply(events: CloudEvent[], lease: string): Promise<void>;
  leases: LeaseStore;
}

/** Named leases shared by the replicas of a consumer (platform/src/events/lease.ts). */
export interface LeaseStore {
  readonly ttlMs: number;
  /**
   * Takes or renews each of `names` for this process, in one go: the map has the ones it now holds,
   * with whether this process held it already (`renewed`), it was free (`new`), or it was taken over
   * from another holder whose lease had expired (`taken-over`: that holder may have died holding work).
   */
  claimMany(names: string[]): Promise<Map<string, LeaseClaim>>;
  /** Gives `name` up, if this process holds it. */
  release(name: string): Promise<void>;
  /** The names of the leases held now (by anyone) that start with one of `prefixes`. */
  live(prefixes: string[]): Promise<string[]>;
  /** The name this store holds its leases under. */
  readonly holder: string;
}

export type LeaseClaim = 'renewed' | 'new' | 'taken-over';

/** A batch found that its lease is no longer this process's: nothing of it was applied. */
export class LeaseLostError extends Error {
  constructor(lease: string) {
    super(`lease ${lease} is held by another process`);
    this.name = 'LeaseLostError';
  }
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
