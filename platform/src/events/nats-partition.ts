import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { CloudEvent } from './events.ts';
import {
  backoffDelay,
  LeaseLostError,
  type BatchSubscribe,
  type DeadLetterHandler,
  type LeaseClaim,
  type RetryPolicy,
} from './transport.ts';

/*
 * One partition of a batching consumer on NATS (docs/scaling.md, "Batches"). Every replica runs one
 * of these per partition consumer; the one that holds the partition's lease (a row in the consumer's
 * own schema, lease.ts) pulls up to `max` messages at a time and applies what has arrived in one
 * transaction, in stream order; the others stand by and ask for the lease now and then. The
 * partition consumer lets `2 × max` messages be pending, so the next batch arrives while one is applied.
 *
 * Why per-subject order holds with several messages in flight, across replicas:
 * - only the lease holder pulls, and each pull (a fetch that expires after `pullMs`) is asked for only
 *   while the lease has more than `pullMs` to run by the holder's own reckoning (counted from before
 *   it asked the database), so every pull of a holder has ended by the time the lease can expire;
 * - a batch's transaction first renews the lease where this process still holds it and fails
 *   otherwise (the fence), holding the lease row until its commit: a stale holder (frozen, cut off)
 *   applies nothing, and nobody takes the lease over while a batch commits;
 * - a replica that takes over a lease that expired (not one released by a holder that stopped
 *   cleanly and handed its messages back) waits `takeoverMs` — the longest a delivery stays
 *   unacknowledged before the server redelivers it (ack wait or the redelivery backoff) — before it
 *   pulls, so the messages the dead holder had are redelivered first, in order, to it;
 * - a failing event is retried here, by the holder, with the retry policy's backoff (the batch's
 *   other messages kept alive), then dead-lettered: the events after it wait, as they do with one message in flight.
 * A frozen holder that wakes up after losing its lease stops pulling and keeping its messages
 * alive, and acknowledges nothing it did not commit while it held the lease.
 */

export interface PartitionOwnerOptions {
  consumer: Consumer;
  /** The lease's name: consumer, stream and partition. */
  lease: string;
  batch: BatchSubscribe;
  max: number;
  types: Set<string>;
  retry: RetryPolicy;
  ackWaitMs: number;
  /** Longest redelivery delay of an unacknowledged message (ack wait or the consumer's backoff). */
  redeliveryMs: number;
  onDeadLetter: DeadLetterHandler;
  log: Logger;
  context: Record<string, unknown>;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class PartitionOwner {
  private heldUntil = 0;
  private pullAfter = 0;
  private waiting: JsMsg[] = [];
  /** Delivered to this process and not yet acknowledged, terminated or handed back. */
  private readonly unsettled = new Set<JsMsg>();
  /** Until when a delivery this process let go of may still be pending on the server. */
  private touchedUntil = 0;
  private dirtyUntil = 0;
  private wake: (() => void) | null = null;
  private stopping = false;
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private keepAlive: NodeJS.Timeout | null = null;
  private fetching: { close(): Promise<void | Error> } | null = null;
  /** The batch being applied, if any. */
  private applying: Promise<void> | null = null;
  private handingBack = false;
  /** Counts the times the lease was lost or given up. */
  private generation = 0;
  private restUntil = 0;

  constructor(private readonly options: PartitionOwnerOptions) {}

  get lease(): string {
    return this.options.lease;
  }

  private get ttlMs(): number {
    return this.options.batch.leases.ttlMs;
  }

  /**
   * How long one pull stays open: a third of the lease, from 1 s (the client's least) to 5 s. A
   * lease shorter than 3 s leaves little time in which a pull may start (see pullLoop).
   */
  private get pullMs(): number {
    return Math.max(1000, Math.min(5000, Math.floor(this.ttlMs / 3)));
  }

  private get takeoverMs(): number {
    return this.options.redeliveryMs + 1000;
  }

  /** The lease is this process's for longer than `marginMs`, by its own clock. */
  private held(marginMs = 0): boolean {
    return Date.now() + marginMs < this.heldUntil;
  }

  /** Owns its partition now. */
  owns(): boolean {
    return this.held();
  }

  /**
   * Gives the partition to another replica (this one holds more than its share): stops pulling,
   * finishes the batch in hand, hands back what arrived unapplied, in stream order, then releases
   * the lease, so the next holder starts at once, and stays out for a while.
   */
  async handBack(): Promise<void> {
    if (!this.held() || this.handingBack || this.stopping) return;
    this.handingBack = true;
    try {
      // The open pull runs out (at most pullMs): closing it would discard what the client has
      // received and not yet handed over, which would then come back only after the ack wait.
      while (this.fetching || this.applying) await sleep(10);
      for (const msg of [...this.unsettled].sort((a, b) => a.seq - b.seq)) this.settle(msg, 'nak');
      this.waiting = [];
      this.generation += 1;
      this.heldUntil = 0;
      this.restUntil = Date.now() + 3 * this.ttlMs;
      await this.options.batch.leases.release(this.options.lease);
      this.options.log.info(this.options.context, 'partition handed to another replica');
    } catch (error) {
      this.options.log.warn({ ...this.options.context, err: error }, 'handing a partition back failed');
    } finally {
      this.handingBack = false;
    }
  }

  start(): void {
    this.loops = [this.pullLoop(), this.applyLoop()];
    this.keepAlive = setInterval(
      () => {
        // Only while the lease is ours: a holder that lost it lets its messages go back to the server.
        if (!this.held() || this.unsettled.size === 0) return;
        for (const msg of this.unsettled) msg.working();
        this.touchedUntil = Date.now() + this.takeoverMs;
      },
      Math.max(100, Math.floor(this.options.ackWaitMs / 3)),
    );
    this.keepAlive.unref();
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.abort.signal }).catch(() => {});
  }

  /** May ask for the lease now (it does not hold it, is not handing it back, is not resting). */
  wantsLease(): boolean {
    return !this.stopping && !this.handingBack && !this.held() && Date.now() >= this.restUntil;
  }

  /**
   * The outcome of a claim asked at `asked` (the replica's lease round, NatsTransport): the lease
   * was renewed or taken (`claim`), or is another process's (null).
   */
  claimed(claim: LeaseClaim | null, asked: number): void {
    if (this.stopping || this.handingBack) return;
    const wasHeld = this.held();
    if (!claim) {
      // Another process holds it: what this one still has in memory is not its to apply.
      if (wasHeld || this.unsettled.size > 0 || this.fetching) this.lost();
      this.heldUntil = 0;
      return;
    }
    this.heldUntil = asked + this.ttlMs;
    if (wasHeld) return;
    // Taken from a holder that died: its deliveries come back only after their ack wait. So do
    // deliveries this process itself let go of when it lost the lease, and, if another process
    // held it since, those still in memory (which that one may have been handed too).
    const tookOver = claim === 'taken-over';
    if (claim !== 'renewed' && this.unsettled.size > 0) this.drop();
    this.pullAfter = Math.max(tookOver ? Date.now() + this.takeoverMs : 0, this.dirtyUntil);
    this.options.log.info(
      { ...this.options.context, claim, pullInMs: Math.max(0, this.pullAfter - Date.now()) },
      'partition lease taken',
    );
    this.wake?.();
  }

  /**
   * Runs a batch whose transaction starts with the fence: once it has committed, the lease was this
   * process's and renewed at its start, so it is held for a lease time from before the call (unless
   * it was given up meanwhile).
   */
  private async fenced(apply: () => Promise<void>): Promise<void> {
    const started = Date.now();
    const generation = this.generation;
    await apply();
    if (generation === this.generation) this.heldUntil = Math.max(this.heldUntil, started + this.ttlMs);
  }

  /**
   * Waits while the lease has run out by this process's clock but nobody is known to hold it
   * instead (a late renewal round): true once it is held again, false when the messages were let
   * go of (the lease is another's) or the owner stops.
   */
  private async heldOrLetGo(messages: JsMsg[]): Promise<boolean> {
    while (!this.held()) {
      if (this.stopping || !messages.every((msg) => this.unsettled.has(msg))) return false;
      await this.pause(50);
    }
    return messages.every((msg) => this.unsettled.has(msg));
  }

  private lost(): void {
    this.generation += 1;
    this.heldUntil = 0;
    this.options.log.warn(this.options.context, 'partition lease lost; its messages go back to the server');
    this.drop();
    if (this.fetching) {
      // What the closed pull had received and not handed over stays pending on the server too.
      this.dirtyUntil = Math.max(this.dirtyUntil, Date.now() + this.takeoverMs);
      void this.fetching.close();
    }
  }

  /**
   * Lets go of every delivery in memory, neither applied nor acknowledged: the server redelivers
   * them to whoever holds the lease once their ack wait has passed.
   */
  private drop(): void {
    if (this.unsettled.size > 0) this.dirtyUntil = Math.max(this.dirtyUntil, this.touchedUntil);
    this.unsettled.clear();
    this.waiting = [];
  }

  private settle(msg: JsMsg, verdict: 'ack' | 'term' | 'nak'): void {
    this.unsettled.delete(msg);
    if (verdict === 'ack') msg.ack();
    else if (verdict === 'term') msg.term();
    else msg.nak();
  }

  /** Pulls while the lease is held with room to spare, one fetch at a time. */
  private async pullLoop(): Promise<void> {
    const { max, consumer, log, context } = this.options;
    while (!this.stopping) {
      if (
        this.handingBack ||
        !this.held(this.pullMs + 200) ||
        Date.now() < this.pullAfter ||
        this.waiting.length >= max
      ) {
        await this.pause(this.held() && Date.now() >= this.pullAfter ? 20 : 100);
        continue;
      }
      try {
        const messages = await consumer.fetch({ max_messages: max, expires: this.pullMs });
        this.fetching = messages;
        for await (const msg of messages) {
          // Kept even when stopping (stop() hands everything back at once, in stream order: the
          // server redelivers in the order it is handed them back) or when the lease just ran out
          // (drop() lets go of them and remembers until when).
          this.unsettled.add(msg);
          if (!this.stopping) {
            this.touchedUntil = Date.now() + this.takeoverMs;
            this.waiting.push(msg);
            this.wake?.();
          }
        }
      } catch (error) {
        if (!this.stopping) {
          log.warn({ ...context, err: error }, 'NATS fetch failed');
          await this.pause(1000);
        }
      } finally {
        this.fetching = null;
      }
    }
  }

  /** Applies what has arrived, a batch at a time. */
  private async applyLoop(): Promise<void> {
    while (!this.stopping) {
      if (this.waiting.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          if (this.stopping || this.waiting.length > 0) resolve();
        });
        this.wake = null;
        continue;
      }
      if (this.handingBack) {
        await this.pause(10);
        continue;
      }
      const taken = this.waiting.splice(0, this.options.max);
      this.applying = this.applyBatch(taken).catch((error: unknown) => {
        this.options.log.error({ ...this.options.context, err: error }, 'batch failed unexpectedly');
      });
      await this.applying;
      this.applying = null;
    }
  }

  private async applyBatch(taken: JsMsg[]): Promise<void> {
    const { types, log, context, batch, lease } = this.options;
    const batchMsgs: { msg: JsMsg; event: CloudEvent }[] = [];
    for (const msg of taken) {
      let event: CloudEvent;
      try {
        event = msg.json<CloudEvent>();
      } catch (error) {
        log.error(
          { ...context, err: error, subject: msg.subject, seq: msg.seq },
          'unreadable NATS message terminated',
        );
        this.settle(msg, 'term');
        continue;
      }
      if (!types.has(event.type)) this.settle(msg, 'ack');
      else batchMsgs.push({ msg, event });
    }
    if (batchMsgs.length === 0) return;
    if (!(await this.heldOrLetGo(batchMsgs.map(({ msg }) => msg)))) return;
    // Let go of while the batch was waiting (the lease was lost): not ours to apply.
    if (!batchMsgs.every(({ msg }) => this.unsettled.has(msg))) return;
    try {
      await this.fenced(() =>
        batch.apply(
          batchMsgs.map((m) => m.event),
          lease,
        ),
      );
      // One acknowledgement per message, sent together and not waited for (a lost one is a
      // redelivery the inbox absorbs).
      for (const { msg } of batchMsgs) this.settle(msg, 'ack');
      return;
    } catch (error) {
      if (error instanceof LeaseLostError) return this.lost();
      log.warn(
        { ...context, events: batchMsgs.length, error: message(error) },
        'batch failed; applying its events one at a time',
      );
    }
    for (const item of batchMsgs) {
      if (!(await this.applyAlone(item))) return;
    }
  }

  /**
   * Applies one event, retrying it here with the policy's backoff until it succeeds or runs out of
   * attempts (then dead-letters it). False when the lease was lost or the owner stops: the rest wait.
   */
  private async applyAlone({ msg, event }: { msg: JsMsg; event: CloudEvent }): Promise<boolean> {
    const { retry, batch, lease, log, context, onDeadLetter } = this.options;
    const eventLog = { ...context, eventId: event.id, type: event.type, correlationId: event.correlationid };
    for (let attempt = msg.info.deliveryCount; ; attempt += 1) {
      if (this.stopping) return false;
      if (!(await this.heldOrLetGo([msg]))) return false;
      try {
        await this.fenced(() => batch.apply([event], lease));
        this.settle(msg, 'ack');
        return true;
      } catch (error) {
        if (error instanceof LeaseLostError) {
          this.lost();
          return false;
        }
        const text = message(error);
        if (attempt >= retry.maxAttempts) {
          try {
            await onDeadLetter(event, text, attempt);
          } catch (deadLetterError) {
            log.error({ ...eventLog, err: deadLetterError }, 'dead-lettering failed');
            // Not acknowledged: redelivered after the ack wait (or the max-deliveries safety net).
            return false;
          }
          this.settle(msg, 'term');
          log.error({ ...eventLog, attempts: attempt, error: text }, 'event dead-lettered');
          return true;
        }
        const delay = backoffDelay(retry, attempt);
        log.warn({ ...eventLog, attempt, retryInMs: delay, error: text }, 'event handler failed; will retry');
        await this.pause(delay);
      }
    }
  }

  /** Stops pulling, hands back what arrived unapplied, waits for the batch in hand, gives the lease up. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.abort.abort();
    this.wake?.();
    // The open pull is left to run out (at most pullMs), for the reason given in handBack().
    await Promise.allSettled(this.loops);
    // Handed back at once, in stream order, for the next holder (which does not wait: the lease is released).
    for (const msg of [...this.unsettled].sort((a, b) => a.seq - b.seq)) this.settle(msg, 'nak');
    this.waiting = [];
    if (this.heldUntil > 0) {
      this.heldUntil = 0;
      await this.options.batch.leases.release(this.options.lease).catch(() => {});
    }
  }
}
