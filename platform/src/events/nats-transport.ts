import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection, type Subscription as NatsSubscription } from '@nats-io/transport-node';
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
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { CloudEvent } from './events.ts';
import { appliedMessages, appliedSubject, resetMessage } from './applied-announcements.ts';
import { PartitionOwner } from './nats-partition.ts';
import {
  backoffDelay,
  DEFAULT_RETRY,
  type ConsumerLag,
  type EventTransport,
  type BatchSubscribe,
  type RetryPolicy,
  type SubscribeOptions,
  type Subscription,
} from './transport.ts';

/*
 * The scaled-out event backbone on NATS JetStream (docs/scaling.md has the reasoning and the costs).
 *
 * Streams: one per producing domain (the CloudEvent `source`), `<PREFIX>_<SOURCE>` holding the
 * subjects `<prefix>.<source>.>`. A domain owns its stream: its limits, placement and replicas can
 * differ from the others'. Created or updated idempotently by whoever publishes first (two relays
 * doing it at once both succeed: creating an identical stream is a no-op on the server). File
 * storage, limits retention (max age, default 7 days): a consumer declared after an event was
 * published still receives it, as with the embedded transport, and events can be replayed to a new
 * consumer; interest retention would drop events that no consumer existed for yet.
 *
 * Subjects: `<prefix>.<source>.<partition>.<type>`, the partition being a stable hash of the CloudEvent
 * `subject` (the aggregate id) modulo the stream's partition count, which is written in the stream's
 * description when it is created and read from there by publishers and consumers alike.
 *
 * Publishing: `Nats-Msg-Id` = event id, so the stream drops a re-published event inside its duplicate
 * window (default 10 minutes); every PubAck is awaited and any failure throws, so the relay keeps the
 * outbox rows and tries again (the outbox is the source of truth, the inbox dedupes the rest).
 *
 * Batches: a subscriber that gives `batch` (the subgraphs' consumers) gets its partitions owned one
 * replica at a time through leases in its own schema, and applies up to `batchMax` events per
 * transaction; see nats-partition.ts. What follows describes the other mode (`batchMax` 1, or a
 * subscriber without `batch`), whose consumers, filters, retries and safety net batches share.
 *
 * Consuming and ordering: per stream and partition one durable pull consumer `<consumer>_p<n>` with
 * `max_ack_pending: 1`, shared by every replica that subscribes with the same consumer name. The
 * server hands out one message of a partition at a time across all replicas, so events of one subject
 * are handled strictly in stream order (also across a retry: a nak'd message still counts as pending),
 * while the partitions and the streams run in parallel. Each partition consumer filters on one
 * subject (a 2.9 server takes one): its partition and the common leading tokens of the consumer's
 * types (`<prefix>.<source>.<n>.customer.>` for customer.created and customer.updated, the type
 * itself for one type, the whole partition when they share none), so most consumers are not handed
 * events they do not use; one that still arrives is acknowledged unread.
 *
 * Consumers attach only to the streams of the sources they declare (SubscribeOptions.sources), so a
 * consumer is not handed another domain's events only to acknowledge them unread.
 *
 * Acknowledgement: explicit, after the handler resolves (the handler commits the inbox), not waited
 * for (stop() flushes the connection). While the
 * handler runs the message is kept alive with `working()`. A failure naks with the RetryPolicy's
 * jittered delay; `max_deliver` = maxAttempts; on the last failed delivery `onDeadLetter` is called and
 * the message terminated. A replica that dies holding a message lets it redeliver after the consumer's
 * `backoff` (≥ ack wait, growing per delivery); when such a message runs out of deliveries without a
 * verdict the server publishes a MAX_DELIVERIES advisory, which one replica (a queue group) picks up:
 * it reads the message by stream sequence, applies it once more (idempotent through the inbox) and
 * dead-letters it only if that fails too.
 *
 * Streams appear when a domain first publishes, so subscribers look for new streams of the prefix
 * on a timer and on the server's stream-created advisory.
 */

export interface NatsTransportOptions {
  /** Comma-separated NATS URLs. */
  servers: string;
  log: Logger;
  retry?: RetryPolicy;
  /** Stream names start with `<streamPrefix>_`, subjects with its lower case (default `C2C`). */
  streamPrefix?: string;
  connectionName?: string;
  /** Partitions of a new stream (default 4); an existing stream keeps the count it was created with. */
  partitions?: number;
  /** How long a delivery may go unacknowledged before it is redelivered (default 30 s). */
  ackWaitMs?: number;
  /** Retention of a stream (default 7 days). */
  maxAgeMs?: number;
  /** Broker-side dedupe window for re-published event ids (default 10 minutes, at least 2). */
  duplicateWindowMs?: number;
  /** Stream replicas (default 1; 3 in a three-node cluster). */
  replicas?: number;
  /** How often subscribers look for streams created since (default 5 s). */
  discoverMs?: number;
  /** How long to wait for one PubAck (default 5 s). */
  publishTimeoutMs?: number;
  /**
   * Most events a consumer that batches (SubscribeOptions.batch) applies in one transaction; one
   * replica owns each partition at a time (nats-partition.ts). 1 turns batching off: every
   * replica pulls, one message of a partition in flight (default 64).
   */
  batchMax?: number;
  /**
   * This process announces the events its data reflects (`announceApplied`) as this subgraph; it
   * then also announces a reset whenever it reconnects (applied-announcements.ts).
   */
  announceAs?: string;
}

const NS_PER_MS = 1_000_000;
const TOKEN = /^[A-Za-z0-9_-]+$/;
const STREAM_CREATED = '$JS.EVENT.ADVISORY.STREAM.CREATED.*';
const MAX_DELIVERIES = '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.*.*';

interface DomainStream {
  name: string;
  source: string;
  partitions: number;
}

interface MaxDeliveriesAdvisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

/** FNV-1a: a stable hash, so every publisher puts one aggregate in the same partition. */
function partitionOf(subject: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < subject.length; i += 1) {
    hash ^= subject.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Durable names may not contain dots; consumer names do (`finance.billing`). */
export function natsDurableName(consumer: string): string {
  return consumer.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** EventTransport on NATS JetStream; see the comment at the top of this file for the design. */
export class NatsTransport implements EventTransport {
  readonly name = 'nats';
  private readonly retry: RetryPolicy;
  private readonly prefix: string;
  private readonly root: string;
  private readonly settings: Required<
    Pick<
      NatsTransportOptions,
      | 'partitions'
      | 'ackWaitMs'
      | 'maxAgeMs'
      | 'duplicateWindowMs'
      | 'replicas'
      | 'discoverMs'
      | 'publishTimeoutMs'
      | 'batchMax'
    >
  >;
  private connection: Promise<{ nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }> | null =
    null;
  private readonly streams = new Map<string, Promise<DomainStream>>();
  private readonly workers = new Set<DurableWorker>();

  constructor(private readonly options: NatsTransportOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.prefix = options.streamPrefix ?? 'C2C';
    if (!TOKEN.test(this.prefix)) throw new Error(`invalid NATS stream prefix ${this.prefix}`);
    this.root = this.prefix.toLowerCase();
    this.settings = {
      partitions: options.partitions ?? 4,
      ackWaitMs: options.ackWaitMs ?? 30_000,
      maxAgeMs: options.maxAgeMs ?? 7 * 24 * 3600_000,
      duplicateWindowMs: Math.max(options.duplicateWindowMs ?? 10 * 60_000, 2 * 60_000),
      replicas: options.replicas ?? 1,
      discoverMs: options.discoverMs ?? 5000,
      publishTimeoutMs: options.publishTimeoutMs ?? 5000,
      batchMax: Math.max(1, Math.floor(options.batchMax ?? 64)),
    };
  }

  /** Connects (waiting for the server if it is not up yet) and returns the transport. */
  static async connect(options: NatsTransportOptions): Promise<NatsTransport> {
    const transport = new NatsTransport(options);
    await transport.client();
    return transport;
  }

  private client() {
    this.connection ??= (async () => {
      const { log } = this.options;
      const nc = await connect({
        servers: this.options.servers.split(',').map((s) => s.trim()),
        name: this.options.connectionName ?? 'c2c',
        // Reconnect forever: a NATS restart must not end a replica; publishes fail meanwhile
        // (the relay retries) and pull consumers resume on reconnect.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        waitOnFirstConnect: true,
      });
      void (async () => {
        for await (const status of nc.status()) {
          if (status.type === 'disconnect') log.warn({ server: status.server }, 'NATS disconnected');
          else if (status.type === 'reconnect') {
            log.info({ server: status.server }, 'NATS reconnected');
            // What this process announced while disconnected may be lost: the gateways start afresh.
            const from = this.options.announceAs;
            if (from) nc.publish(appliedSubject(this.prefix), resetMessage(from));
          } else if (status.type === 'error') log.error({ err: status.error }, 'NATS error');
        }
      })();
      log.info({ server: nc.getServer() }, 'NATS connected');
      return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
    })();
    return this.connection;
  }

  private streamName(source: string): string {
    return `${this.prefix}_${source.toUpperCase()}`;
  }

  /** The domain stream a subject root belongs to, if it is one of ours. */
  private parseStream(config: {
    name: string;
    subjects?: string[];
    description?: string;
  }): DomainStream | null {
    const match = /^([^.]+)\.([^.]+)\.>$/.exec(config.subjects?.[0] ?? '');
    if (!match || match[1] !== this.root || config.name !== this.streamName(match[2]!)) return null;
    const partitions = Number(/partitions=(\d+)/.exec(config.description ?? '')?.[1] ?? 1);
    return { name: config.name, source: match[2]!, partitions };
  }

  /** Creates the domain stream or brings its limits up to date; safe to run on several replicas at once. */
  private ensureStream(source: string): Promise<DomainStream> {
    let found = this.streams.get(source);
    if (!found) {
      found = this.createStream(source);
      this.streams.set(source, found);
      found.catch(() => this.streams.delete(source));
    }
    return found;
  }

  private async createStream(source: string): Promise<DomainStream> {
    if (!TOKEN.test(source)) throw new Error(`event source ${source} cannot name a NATS stream`);
    const { jsm } = await this.client();
    const config: Partial<StreamConfig> & { name: string } = {
      name: this.streamName(source),
      description: `c2c events of ${source}; partitions=${this.settings.partitions}`,
      subjects: [`${this.root}.${source}.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: this.settings.maxAgeMs * NS_PER_MS,
      duplicate_window: this.settings.duplicateWindowMs * NS_PER_MS,
      num_replicas: this.settings.replicas,
    };
    try {
      const info = await jsm.streams.add(config);
      return this.parseStream(info.config)!;
    } catch (error) {
      // The stream exists with another configuration (another version of us, or an operator's
      // change): keep its partition count, which messages already carry, and update the limits.
      const existing = await jsm.streams.info(config.name).catch(() => null);
      if (!existing) throw error;
      const stream = this.parseStream(existing.config);
      if (!stream)
        throw new Error(`NATS stream ${config.name} exists with foreign subjects`, { cause: error });
      const { name: _name, storage: _storage, description: _description, ...limits } = config;
      await jsm.streams.update(config.name, { ...existing.config, ...limits });
      return stream;
    }
  }

  private subjectOf(stream: DomainStream, event: CloudEvent): string {
    if (!event.type.split('.').every((token) => TOKEN.test(token)))
      throw new Error(`event type ${event.type} cannot be a NATS subject`);
    return `${this.root}.${stream.source}.${partitionOf(event.subject, stream.partitions)}.${event.type}`;
  }

  /** Creates the consumer on every domain stream that exists now (new streams are found by subscribers). */
  async declare(consumer: string, types: string[], sources?: string[]): Promise<void> {
    for (const stream of await this.listStreams())
      if (!sources || sources.includes(stream.source)) await this.ensureConsumers(stream, consumer, types);
  }

  async publish(events: CloudEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { js } = await this.client();
    const bySource = new Map<string, DomainStream>();
    for (const source of new Set(events.map((e) => e.source)))
      bySource.set(source, await this.ensureStream(source));
    // All sent before any PubAck is awaited: one connection keeps their order on the wire, so the
    // stored events are a prefix of the batch in order whatever fails after.
    const acks = events.map((event) =>
      js.publish(this.subjectOf(bySource.get(event.source)!, event), JSON.stringify(event), {
        msgID: event.id,
        timeout: this.settings.publishTimeoutMs,
      }),
    );
    const results = await Promise.allSettled(acks);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) {
      // A deleted or reconfigured stream is created again on the next attempt.
      for (const source of bySource.keys()) this.streams.delete(source);
      throw new Error(
        `NATS publish failed for ${failed.length} of ${events.length} events: ${message(failed[0]!.reason)}`,
      );
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const worker = new DurableWorker(this, options, await this.client());
    this.workers.add(worker);
    await worker.start();
    return {
      stop: async () => {
        await worker.stop();
        this.workers.delete(worker);
      },
    };
  }

  /**
   * Per logical consumer, the events of `source`'s stream it has not acknowledged: undelivered
   * (`num_pending`) plus delivered and unacknowledged (`num_ack_pending`), summed over partitions.
   * Counts the events its filter matches, also types the consumer acknowledges unread.
   */
  async lag(source: string): Promise<ConsumerLag[]> {
    const { jsm } = await this.client();
    const stream = this.streamName(source);
    const byConsumer = new Map<string, number>();
    try {
      for await (const info of jsm.consumers.list(stream)) {
        // The description names the logical consumer; the durable name has its dots replaced.
        const consumer = /^(\S+) on \S+ partition \d+$/.exec(info.config.description ?? '')?.[1];
        if (!consumer) continue;
        byConsumer.set(consumer, (byConsumer.get(consumer) ?? 0) + info.num_pending + info.num_ack_pending);
      }
    } catch (error) {
      // No stream yet: the domain has published nothing, so nobody lags behind it.
      if ((await jsm.streams.info(stream).catch(() => null)) === null) return [];
      throw error;
    }
    return [...byConsumer].map(([consumer, pending]) => ({ consumer, pending }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers].map((worker) => worker.stop()));
    this.workers.clear();
    if (!this.connection) return;
    const { nc } = await this.connection;
    if (!nc.isClosed()) await nc.drain();
  }

  /**
   * Tells the gateways (core NATS, `<prefix>.applied`) that this process's data reflects `events`:
   * its relay published them or its consumer applied them (docs/cache.md). Fire and forget: a lost
   * announcement leaves entries until their max age, and a reconnect announces a reset.
   */
  announceApplied(events: CloudEvent[]): void {
    const from = this.options.announceAs;
    if (!from || !events.length) return;
    this.client().then(
      ({ nc }) => {
        for (const message of appliedMessages(from, events)) nc.publish(appliedSubject(this.prefix), message);
      },
      (error: unknown) => this.options.log.warn({ err: error }, 'could not announce applied events'),
    );
  }

  /** The domain streams of this prefix on the server. */
  async listStreams(): Promise<DomainStream[]> {
    const { jsm } = await this.client();
    const found: DomainStream[] = [];
    for await (const info of jsm.streams.list()) {
      const stream = this.parseStream(info.config);
      if (stream) found.push(stream);
    }
    return found;
  }

  private turns: Promise<unknown> = Promise.resolve();

  /**
   * @internal Runs the batching subscriptions' lease rounds one after another, so that a process
   * starting a dozen consumers does not open a dozen database connections for them at once.
   */
  inTurn<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.turns.then(work, work);
    this.turns = turn.catch(() => undefined);
    return turn;
  }

  /** @internal used by the workers */
  get config() {
    return {
      ...this.settings,
      retry: this.retry,
      prefix: this.prefix,
      root: this.root,
      log: this.options.log,
    };
  }

  /** @internal: the stream belongs to this prefix. */
  ownsStream(name: string): boolean {
    return name.startsWith(`${this.prefix}_`) && TOKEN.test(name.slice(this.prefix.length + 1));
  }

  /**
   * The subject filter of a partition consumer: the narrowest one subject (a 2.9 server takes one)
   * that covers the consumer's types — the type itself for one type, else the types' common leading
   * tokens (`customer.created` and `customer.updated`: `….customer.>`), else the whole partition.
   * Types it does not handle that still match are acknowledged unread on delivery.
   */
  private filterSubject(stream: DomainStream, partition: number, types: string[]): string {
    const base = `${this.root}.${stream.source}.${partition}`;
    const valid = types.filter((type) => type.split('.').every((token) => TOKEN.test(token)));
    if (valid.length === 0 || valid.length !== types.length) return `${base}.>`;
    if (new Set(valid).size === 1) return `${base}.${valid[0]}`;
    const split = valid.map((type) => type.split('.'));
    // A prefix that is itself one of the types would not match that type with `.>`.
    const longest = Math.min(...split.map((tokens) => tokens.length)) - 1;
    const common: string[] = [];
    for (let i = 0; i < longest && split.every((tokens) => tokens[i] === split[0]![i]); i += 1)
      common.push(split[0]![i]!);
    return common.length > 0 ? `${base}.${common.join('.')}.>` : `${base}.>`;
  }

  /**
   * Creates (or updates) the partition consumers of one logical consumer on one stream. The filter
   * is set at creation only (a 2.9 server cannot change it): a consumer created by an earlier
   * version keeps its whole-partition filter, which is correct, only not narrowed.
   */
  async ensureConsumers(
    stream: DomainStream,
    consumer: string,
    types: string[],
    maxAckPending?: number,
  ): Promise<string[]> {
    const { jsm } = await this.client();
    const durable = natsDurableName(consumer);
    const names: string[] = [];
    for (let p = 0; p < stream.partitions; p += 1) {
      const name = `${durable}_p${p}`;
      const config: Partial<ConsumerConfig> = {
        durable_name: name,
        description: `${consumer} on ${stream.name} partition ${p}`,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: this.filterSubject(stream, p, types),
        max_ack_pending: maxAckPending ?? 1,
        max_deliver: this.retry.maxAttempts,
        ack_wait: this.settings.ackWaitMs * NS_PER_MS,
        ...(this.redeliveryBackoff().length > 0 ? { backoff: this.redeliveryBackoff() } : {}),
      };
      try {
        await jsm.consumers.add(stream.name, config);
      } catch (error) {
        // Exists with other settings (a new retry policy): those are updatable in place.
        const { durable_name: _d, deliver_policy: _p, filter_subject: _f, ...settings } = config;
        // Declared, not subscribed: how many messages may be in flight is the subscribers' to say.
        const { max_ack_pending: _m, ...limits } = settings;
        const updatable = maxAckPending === undefined ? limits : settings;
        await jsm.consumers.update(stream.name, name, updatable).catch(() => {
          throw error;
        });
      }
      names.push(name);
    }
    return names;
  }

  /**
   * Redelivery after an unacknowledged delivery (a replica died holding it): the server uses
   * `backoff[n-1]` instead of `ack_wait` for the n-th delivery, so each step is at least the ack wait
   * (the time a handler may take, kept alive by `working()`) and grows like the retry policy.
   */
  /** The longest a delivery stays unacknowledged before the server redelivers it, in ms. */
  redeliveryMs(): number {
    return Math.max(this.settings.ackWaitMs, ...this.redeliveryBackoff().map((ns) => ns / NS_PER_MS));
  }

  private redeliveryBackoff(): number[] {
    const steps: number[] = [];
    for (let attempt = 1; attempt < this.retry.maxAttempts; attempt += 1) {
      const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
      steps.push(Math.max(this.settings.ackWaitMs, ceiling) * NS_PER_MS);
    }
    return steps;
  }
}

/** One subscription: pull loops over every partition consumer of every domain stream. */
class DurableWorker {
  private readonly types: Set<string>;
  private readonly durable: string;
  private readonly attached = new Map<string, Promise<void>>();
  private readonly iterators = new Set<ConsumerMessages>();
  private readonly loops = new Set<Promise<void>>();
  private readonly subscriptions: NatsSubscription[] = [];
  private readonly advisories = new Set<Promise<void>>();
  private readonly owners = new Set<PartitionOwner>();
  /** The partitions this replica may own: all of them divided by the live replicas, rounded up. */
  private share = Number.POSITIVE_INFINITY;
  private balancing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly transport: NatsTransport,
    private readonly options: SubscribeOptions,
    private readonly client: { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager },
  ) {
    this.types = new Set(options.types);
    this.durable = natsDurableName(options.consumer);
  }

  private get log(): Logger {
    return this.transport.config.log;
  }

  async start(): Promise<void> {
    const { nc } = this.client;
    const { prefix, discoverMs } = this.transport.config;
    // One replica of the consumer gets each advisory; the queue name carries the prefix so that
    // transports of another prefix on the same server do not take it away.
    this.subscriptions.push(
      nc.subscribe(MAX_DELIVERIES, {
        queue: `${prefix}-${this.durable}`,
        callback: (error, msg) => {
          if (error || this.stopping) return;
          const handling = this.onMaxDeliveries(msg.json<MaxDeliveriesAdvisory>());
          this.advisories.add(handling);
          void handling.finally(() => this.advisories.delete(handling));
        },
      }),
      nc.subscribe(STREAM_CREATED, {
        callback: (error, msg) => {
          const name = msg?.subject.split('.').at(-1);
          if (!error && name && this.transport.ownsStream(name)) void this.discover();
        },
      }),
    );
    await this.discover();
    this.timer = setInterval(() => void this.discover(), discoverMs);
    this.timer.unref();
  }

  private async discover(): Promise<void> {
    if (this.stopping) return;
    try {
      for (const stream of await this.transport.listStreams()) {
        if (this.attached.has(stream.name)) continue;
        if (this.options.sources && !this.options.sources.includes(stream.source)) continue;
        const attaching = this.attach(stream);
        this.attached.set(stream.name, attaching);
        attaching.catch((error: unknown) => {
          this.attached.delete(stream.name);
          this.log.error(
            { err: error, stream: stream.name, consumer: this.options.consumer },
            'NATS attach failed',
          );
        });
        await attaching.catch(() => {});
      }
    } catch (error) {
      if (!this.stopping)
        this.log.warn({ err: error, consumer: this.options.consumer }, 'NATS stream discovery failed');
    }
  }

  private async attach(stream: DomainStream): Promise<void> {
    const { batchMax, ackWaitMs, retry } = this.transport.config;
    const batch = batchMax > 1 ? this.options.batch : undefined;
    const names = await this.transport.ensureConsumers(
      stream,
      this.options.consumer,
      this.options.types,
      // Batching: a batch in hand and the next one arriving (only the partition's lease holder pulls).
      batch ? 2 * batchMax : 1,
    );
    if (batch) {
      for (const [partition, name] of names.entries()) {
        if (this.stopping) return;
        const owner = new PartitionOwner({
          consumer: await this.client.js.consumers.get(stream.name, name),
          lease: `events/${this.options.consumer}/${stream.name}/${partition}`,
          batch,
          max: batchMax,
          types: this.types,
          retry,
          ackWaitMs,
          redeliveryMs: this.transport.redeliveryMs(),
          onDeadLetter: this.options.onDeadLetter,
          log: this.log,
          context: { consumer: this.options.consumer, stream: stream.name, partition },
        });
        this.owners.add(owner);
        owner.start();
      }
      this.balancing ??= this.balance(batch);
      this.log.debug(
        { stream: stream.name, consumer: this.options.consumer },
        'NATS batching consumer attached',
      );
      return;
    }
    for (const name of names) {
      if (this.stopping) return;
      const consumer = await this.client.js.consumers.get(stream.name, name);
      // One message per pull: the server refuses (409) a pull for more than max_ack_pending.
      const messages = await consumer.consume({ max_messages: 1, expires: 30_000 });
      this.iterators.add(messages);
      const loop = this.pull(messages);
      this.loops.add(loop);
    }
    this.log.debug({ stream: stream.name, consumer: this.options.consumer }, 'NATS consumer attached');
  }

  /**
   * The partition leases of a batching consumer, for all its partitions at once: every third of the
   * lease time one statement lists the live members (`members/<consumer>/<holder>`) and the
   * partitions held by anyone, and a second renews what this replica holds and its membership and
   * claims partitions nobody holds, up to its share (each process runs these rounds one at a time,
   * `inTurn`). A replica's share is all partitions ÷ live replicas, rounded up; one that holds more
   * hands back one partition per round (so a replica that joins gets some), and the partitions of one
   * that died are taken once its leases have expired. A failed round changes nothing: a lease runs
   * out by the holder's own clock unless a later round renews it.
   */
  private async balance(batch: BatchSubscribe): Promise<void> {
    const { leases } = batch;
    const members = `members/${this.options.consumer}/`;
    const member = `${members}${leases.holder}`;
    const partitions = `events/${this.options.consumer}/`;
    while (!this.stopping) {
      try {
        const owners = [...this.owners];
        await this.transport.inTurn(async () => {
          // Who is alive and which partitions are taken; then one statement renews what this
          // replica holds, its membership, and claims free partitions up to its share.
          const live = new Set(await leases.live([members, partitions]));
          const replicas = [...live].filter((name) => name.startsWith(members) && name !== member).length + 1;
          this.share = Math.ceil(this.owners.size / replicas);
          const held = owners.filter((owner) => owner.owns());
          const room = Math.max(0, this.share - held.length);
          const wanted = owners
            .filter((owner) => owner.wantsLease() && !live.has(owner.lease))
            .sort(() => Math.random() - 0.5)
            .slice(0, room);
          const asked = Date.now();
          const claims = await leases.claimMany([
            member,
            ...[...held, ...wanted].map((owner) => owner.lease),
          ]);
          if (this.stopping) return;
          for (const owner of [...held, ...wanted]) owner.claimed(claims.get(owner.lease) ?? null, asked);
        });
        if (this.stopping) break;
        const owning = owners.filter((owner) => owner.owns());
        // Not waited for: the hand-over lets its pull run out, and the other partitions' renewals must not wait.
        if (owning.length > this.share) void owning.at(-1)?.handBack();
      } catch (error) {
        if (!this.stopping)
          this.log.warn({ err: error, consumer: this.options.consumer }, 'partition leases not renewed');
      }
      await sleep(leases.ttlMs / 3 + Math.random() * (leases.ttlMs / 12), undefined, {
        signal: this.abort.signal,
      }).catch(() => {});
    }
    await leases.release(member).catch(() => {});
  }

  private async pull(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const msg of messages) {
        // Stopping: hand what arrived back at once, unhandled, for another replica.
        if (this.stopping) msg.nak();
        else await this.handle(msg);
      }
    } catch (error) {
      if (!this.stopping)
        this.log.error({ err: error, consumer: this.options.consumer }, 'NATS pull loop ended');
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const { retry, ackWaitMs } = this.transport.config;
    let event: CloudEvent;
    try {
      event = msg.json<CloudEvent>();
    } catch (error) {
      this.log.error(
        { err: error, subject: msg.subject, seq: msg.seq },
        'unreadable NATS message terminated',
      );
      msg.term();
      return;
    }
    if (!this.types.has(event.type)) {
      msg.ack();
      return;
    }
    const attempt = msg.info.deliveryCount;
    const keepAlive = setInterval(() => msg.working(), Math.max(100, Math.floor(ackWaitMs / 3)));
    const eventLog = {
      consumer: this.options.consumer,
      eventId: event.id,
      type: event.type,
      correlationId: event.correlationid,
    };
    try {
      await this.options.handler(event);
      clearInterval(keepAlive);
      // Not waited for: the server hands out this partition's next message once it has the ack,
      // and stop() flushes the connection, so nothing of ours is left unacknowledged after it. A
      // lost ack means a redelivery, which the inbox absorbs. (Waiting for each confirmation cost a
      // request-reply round trip per event.)
      msg.ack();
    } catch (error) {
      clearInterval(keepAlive);
      const text = message(error);
      if (attempt >= retry.maxAttempts) {
        try {
          await this.options.onDeadLetter(event, text, attempt);
        } catch (deadLetterError) {
          // Left pending: the server's MAX_DELIVERIES advisory brings it back to the safety net.
          this.log.error({ ...eventLog, err: deadLetterError }, 'dead-lettering failed');
          return;
        }
        // No reason text: a 2.9 server reads `+TERM <reason>` as no verdict at all.
        msg.term();
        this.log.error({ ...eventLog, attempts: attempt, error: text }, 'event dead-lettered');
      } else {
        const delay = backoffDelay(retry, attempt);
        msg.nak(delay);
        this.log.warn(
          { ...eventLog, attempt, retryInMs: delay, error: text },
          'event handler failed; will retry',
        );
      }
    }
  }

  /** A message ran out of deliveries without a verdict (its holder died): apply once more or dead-letter. */
  private async onMaxDeliveries(advisory: MaxDeliveriesAdvisory): Promise<void> {
    if (!this.transport.ownsStream(advisory.stream)) return;
    if (!new RegExp(`^${this.durable}_p\\d+$`).test(advisory.consumer)) return;
    const context = { consumer: this.options.consumer, stream: advisory.stream, seq: advisory.stream_seq };
    try {
      const stored = await this.client.jsm.streams.getMessage(advisory.stream, { seq: advisory.stream_seq });
      if (!stored) {
        this.log.error(context, 'message past its deliveries is gone from the stream');
        return;
      }
      const event = stored.json<CloudEvent>();
      if (!this.types.has(event.type)) return;
      const attempts = advisory.deliveries + 1;
      try {
        await this.options.handler(event);
        this.log.warn(
          { ...context, eventId: event.id, attempts },
          'event applied after its deliveries ran out',
        );
      } catch (error) {
        await this.options.onDeadLetter(event, message(error), attempts);
        this.log.error(
          { ...context, eventId: event.id, attempts, error: message(error) },
          'event dead-lettered',
        );
      }
    } catch (error) {
      this.log.error({ ...context, err: error }, 'handling a MAX_DELIVERIES advisory failed');
    }
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      if (this.timer) clearInterval(this.timer);
      await Promise.allSettled([...this.attached.values()]);
      await Promise.allSettled(this.subscriptions.map((s) => s.drain()));
      await Promise.allSettled([...this.owners].map((owner) => owner.stop()));
      this.abort.abort();
      await this.balancing;
      await Promise.allSettled([...this.iterators].map((messages) => messages.close()));
      await Promise.allSettled([...this.loops, ...this.advisories]);
      // The server has processed every ack sent before this round trip.
      if (!this.client.nc.isClosed()) await this.client.nc.flush().catch(() => {});
    })();
    return this.stopped;
  }
}
