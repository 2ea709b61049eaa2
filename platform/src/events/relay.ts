import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { AnyDb } from '../db/db.ts';
import { markPublished, readUnpublished } from './events.ts';
import { faultPoint } from '../core/faults.ts';
import type { Signals } from '../core/signals.ts';
import type { CloudEvent } from './events.ts';
import type { EventTransport } from './transport.ts';
import { DEFAULT_LEASE_MS, Lease, PROCESS_HOLDER } from './lease.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RelayOptions {
  db: AnyDb;
  schema: string;
  transport: EventTransport;
  signals: Signals;
  log: Logger;
  pollMs?: number;
  batchSize?: number;
  /** How long the relay's lease on the outbox lasts unrenewed: a dead owner's successor waits this long (default 5 s). */
  leaseMs?: number;
  /** Who holds the lease: this process (default); tests give relays of one process different names. */
  holder?: string;
  /** Called with each batch once published (its transaction committed before): the entity cache's eviction. */
  onPublished?: (events: CloudEvent[]) => void;
}

/** Topic to notify after a commit that appended to `schema`'s outbox. */
export const outboxTopic = (schema: string) => `outbox:${schema}`;

/** The PostgreSQL channel the outbox's trigger notifies at the commit of a transaction that appended to it. */
export const outboxChannel = (schema: string) => `c2c_outbox_${schema}`;

/** In-process turns per database and outbox: relays of one outbox in one process publish one at a time. */
const turns = new WeakMap<AnyDb, Map<string, Promise<unknown>>>();

function inTurn<T>(db: AnyDb, key: string, work: () => Promise<T>): Promise<T> {
  let queues = turns.get(db);
  if (!queues) turns.set(db, (queues = new Map()));
  const result = (queues.get(key) ?? Promise.resolve()).then(work, work);
  queues.set(
    key,
    result.catch(() => {}),
  );
  return result;
}

/**
 * Moves committed outbox rows to the transport in commit order, then marks them published.
 * A crash between publish and mark re-sends the rows: the transport and the inboxes deduplicate.
 *
 * Several replicas may run a relay on one outbox; one owns it at a time. Ownership is a lease row
 * (`lease`, name `relay`, see lease.ts) that the owner renews while it runs (one statement every
 * few seconds); the other replicas stand by, asking for the lease once per third of its time, and
 * one of them takes over when it expires (the owner died) or is released (the owner stopped). Only
 * the owner reads the outbox, so nothing races for it: no lock per batch, no retries on a busy
 * outbox. Should an owner stall past its lease while a successor publishes, the rows they both send
 * are deduplicated by event id (the transport, then the inboxes); order per subject holds because
 * each publishes a prefix of the unpublished rows in seq order. Relays of one outbox in one process
 * (tests) share the process's lease and take turns.
 *
 * A batch is one transaction on PostgreSQL (read the oldest unpublished rows, publish, mark them).
 * The embedded transport on PGlite writes the bus through the same single connection a transaction
 * would hold, so there the read and the mark are statements of their own.
 *
 * The owner is woken by commits that appended to the outbox: in-process signals (the embedded
 * shape), or on a PostgreSQL server the outbox trigger's NOTIFY, which other replicas' commits
 * send too and transactions that appended nothing never do. It also polls every `pollMs`.
 */
export class OutboxRelay {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private claiming: Promise<boolean> | null = null;
  private readonly lease: Lease;

  constructor(private readonly options: RelayOptions) {
    this.lease = new Lease(
      options.db,
      options.schema,
      'relay',
      options.leaseMs ?? DEFAULT_LEASE_MS,
      options.holder ?? PROCESS_HOLDER,
    );
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Publishes everything pending now (unless another process owns the outbox); returns how many events went out. */
  async drain(): Promise<number> {
    if (!(await this.lease.acquire())) return 0;
    return this.pass(true);
  }

  /**
   * Batches until one comes back empty (`untilEmpty`) or, for the loop, short: a pass that finds a
   * few rows then costs one transaction, not a second one that finds nothing (rows committed
   * meanwhile wake the loop again).
   */
  private async pass(untilEmpty = false): Promise<number> {
    const limit = this.options.batchSize ?? 200;
    let total = 0;
    for (;;) {
      const turn = `${this.options.schema} ${this.lease.holder}`;
      const sent = await inTurn(this.options.db, turn, () => this.batch());
      total += sent;
      if (sent === 0 || (!untilEmpty && sent < limit)) return total;
    }
  }

  private async batch(): Promise<number> {
    if (!this.lease.held()) return 0;
    if (!(await this.claimsInDatabase())) return this.publishBatch(this.options.db);
    return this.options.db.transaction().execute((trx) => this.publishBatch(trx));
  }

  private claimsInDatabase(): Promise<boolean> {
    this.claiming ??= (async () => {
      if (this.options.transport.name !== 'database') return true;
      const { rows } = await sql<{ version: string }>`select version() as version`.execute(this.options.db);
      return !rows[0]?.version.includes('PGlite');
    })();
    this.claiming.catch(() => (this.claiming = null));
    return this.claiming;
  }

  private async publishBatch(db: AnyDb): Promise<number> {
    const { schema, transport } = this.options;
    const batch = await readUnpublished(db, schema, this.options.batchSize ?? 200);
    if (batch.length === 0) return 0;
    faultPoint('outbox.after-commit');
    const events = batch.map((row) => row.event);
    await transport.publish(events);
    this.options.onPublished?.(events);
    faultPoint('relay.after-publish');
    await markPublished(
      db,
      schema,
      batch.map((row) => row.seq),
    );
    return batch.length;
  }

  private async run(): Promise<void> {
    const { signals, schema, log } = this.options;
    // Commits that happen while a pass runs are remembered, so the loop goes round again at once
    // instead of waiting for the next signal or poll.
    let woken = false;
    const stopListening = signals.listen(outboxTopic(schema), () => (woken = true));
    let owner = false;
    try {
      while (!this.abort.signal.aborted) {
        woken = false;
        try {
          const was: boolean = owner;
          owner = await this.lease.acquire();
          if (owner !== was)
            log.info({ schema, owner }, owner ? 'outbox relay owns the outbox' : 'outbox relay stands by');
          if (owner) {
            const sent = await this.pass();
            if (sent > 0) log.debug({ schema, sent }, 'outbox relayed');
          }
        } catch (error) {
          if (this.abort.signal.aborted) break;
          log.error({ err: error, schema }, 'outbox relay failed; retrying');
        }
        if (!owner) {
          // Standing by: ask for the lease again a third of its time later, whatever is committed.
          await sleep(this.lease.ttlMs / 3, undefined, { signal: this.abort.signal }).catch(() => {});
          continue;
        }
        if (woken) continue;
        await signals.wait(
          outboxTopic(schema),
          Math.min(this.options.pollMs ?? 1000, this.lease.ttlMs / 3),
          this.abort.signal,
        );
      }
    } finally {
      stopListening();
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    // A stopping owner hands over at once instead of letting a stand-by wait for the lease to expire.
    if (this.loop) await this.lease.release().catch(() => {});
  }
}
