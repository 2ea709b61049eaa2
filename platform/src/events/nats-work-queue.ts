import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { backoffDelay, type RetryPolicy } from './transport.ts';

/*
 * A JetStream work queue consumed in batches: the inbound side of the scaled-out backbone, for
 * messages that outside producers publish (usage events) rather than events of our own outboxes.
 *
 * The stream has work-queue retention (a message is removed once acknowledged) and one durable pull
 * consumer, shared by every replica that starts the queue with the same consumer name: the server
 * hands each message to one replica at a time. A replica hands up to `batch` messages at once to
 * its handler (whatever has arrived: one message when the queue is quiet, a full batch under load),
 * with `concurrency` handler calls in flight, and acknowledges each message with the verdict the
 * handler returns, only after the handler resolved (its transaction committed). A handler that
 * throws gets every message of the call back after a backoff delay; a replica that dies holding
 * messages lets them redeliver after the ack wait. Nothing is ordered: the handler must be
 * idempotent per message (redeliveries) and must not depend on the order of messages.
 *
 * Its stream is not a domain stream of NatsTransport: its subjects have no `.>` wildcard after the
 * source, so the event transport's discovery never attaches a consumer to it.
 */

export interface WorkQueueMessage {
  data: Uint8Array;
  subject: string;
  /** Stream sequence: stable across redeliveries. */
  seq: number;
  /** 1 on the first delivery. */
  deliveryCount: number;
  /** The producer's `Nats-Msg-Id`, if it set one. */
  msgId: string | null;
}

/** What to do with one message: acknowledge it (done), terminate it (never again), or retry it later. */
export type WorkQueueVerdict = 'ack' | 'term' | { retryInMs: number };

export interface WorkQueueStream {
  /** Stream name, e.g. C2C_INGEST_USAGE. */
  name: string;
  subjects: string[];
  description: string;
  /** How long an unconsumed message is kept (default 7 days). */
  maxAgeMs?: number;
  /** Broker-side dedupe window for a re-published `Nats-Msg-Id` (default 10 minutes). */
  duplicateWindowMs?: number;
  /** Stream replicas (default 1). */
  replicas?: number;
}

export interface NatsWorkQueueOptions {
  /** Comma-separated NATS URLs. */
  servers: string;
  log: Logger;
  connectionName?: string;
  stream: WorkQueueStream;
  /** Durable consumer name (letters, digits, `_`, `-`). */
  consumer: string;
  /** Messages handed to one handler call at most. */
  batch: number;
  /** Handler calls in flight in this replica. */
  concurrency: number;
  /** How long a delivery may go unacknowledged before it is redelivered (default 30 s). */
  ackWaitMs?: number;
  /** Delays after a handler that threw (attempt = the message's delivery count). */
  retry: RetryPolicy;
  handle(messages: WorkQueueMessage[]): Promise<WorkQueueVerdict[]>;
}

export interface RunningWorkQueue {
  /** Messages this replica settled since start, by verdict. */
  readonly settled: { acked: number; terminated: number; retried: number };
  stop(): Promise<void>;
}

const NS_PER_MS = 1_000_000;
const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Creates the work-queue stream, or leaves an existing one as it is; safe on several replicas at once. */
export async function ensureWorkQueueStream(jsm: JetStreamManager, stream: WorkQueueStream): Promise<void> {
  if (!TOKEN.test(stream.name)) throw new Error(`invalid NATS stream name ${stream.name}`);
  const config: Partial<StreamConfig> & { name: string } = {
    name: stream.name,
    description: stream.description,
    subjects: stream.subjects,
    storage: StorageType.File,
    retention: RetentionPolicy.Workqueue,
    discard: DiscardPolicy.Old,
    max_age: (stream.maxAgeMs ?? 7 * 24 * 3600_000) * NS_PER_MS,
    duplicate_window: (stream.duplicateWindowMs ?? 10 * 60_000) * NS_PER_MS,
    num_replicas: stream.replicas ?? 1,
  };
  try {
    await jsm.streams.add(config);
  } catch (error) {
    const existing = await jsm.streams.info(stream.name).catch(() => null);
    if (!existing) throw error;
    const subjects = existing.config.subjects ?? [];
    if (stream.subjects.some((s) => !subjects.includes(s)))
      throw new Error(`NATS stream ${stream.name} exists with other subjects (${subjects.join(', ')})`, {
        cause: error,
      });
  }
}

/** Starts consuming a work queue; resolves once the stream and consumer exist and the pull runs. */
export async function startNatsWorkQueue(options: NatsWorkQueueOptions): Promise<RunningWorkQueue> {
  if (!TOKEN.test(options.consumer)) throw new Error(`invalid NATS consumer name ${options.consumer}`);
  if (options.batch < 1 || options.concurrency < 1) throw new Error('batch and concurrency must be ≥ 1');
  const nc = await connect({
    servers: options.servers.split(',').map((s) => s.trim()),
    name: options.connectionName ?? `c2c-${options.consumer}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    waitOnFirstConnect: true,
  });
  try {
    const queue = new WorkQueue(options, nc);
    await queue.start();
    return queue;
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw error;
  }
}

class WorkQueue implements RunningWorkQueue {
  readonly settled = { acked: 0, terminated: 0, retried: 0 };
  private messages: ConsumerMessages | null = null;
  /** Delivered, not yet handed to the handler. */
  private readonly waiting: JsMsg[] = [];
  private wake: (() => void) | null = null;
  /** Handed to the handler, not yet settled. */
  private readonly held = new Set<JsMsg>();
  private readonly inFlight = new Set<Promise<void>>();
  private dispatcher: Promise<void> | null = null;
  private keepAlive: NodeJS.Timeout | null = null;
  private stopping = false;
  private stopped: Promise<void> | null = null;

  constructor(
    private readonly options: NatsWorkQueueOptions,
    private readonly nc: NatsConnection,
  ) {}

  private get log(): Logger {
    return this.options.log;
  }

  async start(): Promise<void> {
    const { stream, consumer, batch, concurrency } = this.options;
    const ackWaitMs = this.options.ackWaitMs ?? 30_000;
    const jsm = await jetstreamManager(this.nc);
    await ensureWorkQueueStream(jsm, stream);
    // Every message delivered and not yet settled is pending: a batch for each handler in flight and
    // one more batch waiting, so a handler that finishes finds its next batch at once. (A pull for
    // more than max_ack_pending is refused by the server: the pull asks for a batch.)
    const buffered = batch * (concurrency + 1);
    const config: Partial<ConsumerConfig> = {
      durable_name: consumer,
      description: `${consumer} on ${stream.name}`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: buffered,
      max_deliver: -1,
      ack_wait: ackWaitMs * NS_PER_MS,
    };
    try {
      await jsm.consumers.add(stream.name, config);
    } catch (error) {
      const { durable_name: _d, deliver_policy: _p, ...updatable } = config;
      await jsm.consumers.update(stream.name, consumer, updatable).catch(() => {
        throw error;
      });
    }
    const js = jetstream(this.nc);
    const pull = await js.consumers.get(stream.name, consumer);
    // Callback mode: every delivered message lands in `waiting` at once; the server stops
    // delivering at max_ack_pending, which bounds it.
    this.messages = await pull.consume({
      max_messages: batch,
      expires: 30_000,
      callback: (msg) => {
        if (this.stopping) {
          msg.nak();
          return;
        }
        this.waiting.push(msg);
        this.wake?.();
      },
    });
    this.keepAlive = setInterval(
      () => {
        for (const msg of this.held) msg.working();
        for (const msg of this.waiting) msg.working();
      },
      Math.max(100, Math.floor(ackWaitMs / 3)),
    );
    this.keepAlive.unref();
    this.dispatcher = this.dispatch();
    this.log.info({ stream: stream.name, consumer, batch, concurrency }, 'NATS work queue consuming');
  }

  /** Hands what has arrived (up to a batch) to the handler whenever a handler slot is free. */
  private async dispatch(): Promise<void> {
    const { batch, concurrency } = this.options;
    while (!this.stopping) {
      while (this.inFlight.size >= concurrency) await Promise.race(this.inFlight);
      if (this.waiting.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      const taken = this.waiting.splice(0, batch);
      for (const msg of taken) this.held.add(msg);
      const call = this.run(taken).finally(() => {
        for (const msg of taken) this.held.delete(msg);
        this.inFlight.delete(call);
      });
      this.inFlight.add(call);
    }
  }

  private async run(taken: JsMsg[]): Promise<void> {
    const { retry, consumer } = this.options;
    let verdicts: WorkQueueVerdict[];
    try {
      verdicts = await this.options.handle(
        taken.map((msg) => ({
          data: msg.data,
          subject: msg.subject,
          seq: msg.seq,
          deliveryCount: msg.info.deliveryCount,
          msgId: msg.headers?.get('Nats-Msg-Id') || null,
        })),
      );
      if (verdicts.length !== taken.length)
        throw new Error(`the handler returned ${verdicts.length} verdicts for ${taken.length} messages`);
    } catch (error) {
      this.log.warn(
        { err: error, consumer, messages: taken.length },
        'work queue handler failed; the messages will be redelivered',
      );
      verdicts = taken.map((msg) => ({ retryInMs: backoffDelay(retry, msg.info.deliveryCount) }));
    }
    // Not waited for (as in NatsTransport): a lost ack is a redelivery, which the handler absorbs.
    for (const [i, msg] of taken.entries()) {
      const verdict = verdicts[i]!;
      if (verdict === 'ack') {
        msg.ack();
        this.settled.acked += 1;
      } else if (verdict === 'term') {
        msg.term();
        this.settled.terminated += 1;
      } else {
        msg.nak(verdict.retryInMs);
        this.settled.retried += 1;
      }
    }
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      if (this.keepAlive) clearInterval(this.keepAlive);
      await this.messages?.close().catch(() => undefined);
      this.wake?.();
      await this.dispatcher;
      await Promise.allSettled([...this.inFlight]);
      // Delivered but never handed over: back to the server at once, for another replica.
      for (const msg of this.waiting.splice(0)) msg.nak();
      // The server has every ack sent before this round trip.
      if (!this.nc.isClosed()) {
        await this.nc.flush().catch(() => undefined);
        await this.nc.drain().catch(() => undefined);
      }
    })();
    return this.stopped;
  }
}
