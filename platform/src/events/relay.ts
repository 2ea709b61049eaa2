import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { AnyDb } from '../db/db.ts';
import { markPublished, readUnpublished } from './events.ts';
import { faultPoint } from '../core/faults.ts';
import type { Signals } from '../core/signals.ts';
import type { CloudEvent } from './events.ts';
import type { EventTransport } from './transport.ts';

export interface RelayOptions {
  db: AnyDb;
  schema: string;
  transport: EventTransport;
  signals: Signals;
  log: Logger;
  pollMs?: number;
  batchSize?: number;
  /** Called with each batch once published (its transaction committed before): the entity cache's eviction. */
  onPublished?: (events: CloudEvent[]) => void;
}

/** What a claiming pass returns when another relay holds the outbox's lock. */
const BUSY = -1;
/** How soon a relay that found the outbox locked by another replica tries again. */
const BUSY_RETRY_MS = 20;

/** Topic to notify after a commit that appended to `schema`'s outbox. */
export const outboxTopic = (schema: string) => `outbox:${schema}`;

/** In-process turns per database and outbox, for when claiming in the database is not possible. */
const turns = new WeakMap<AnyDb, Map<string, Promise<unknown>>>();

function inTurn<T>(db: AnyDb, schema: string, work: () => Promise<T>): Promise<T> {
  let queues = turns.get(db);
  if (!queues) turns.set(db, (queues = new Map()));
  const result = (queues.get(schema) ?? Promise.resolve()).then(work, work);
  queues.set(
    schema,
    result.catch(() => {}),
  );
  return result;
}

/**
 * Moves committed outbox rows to the transport in commit order, then marks them published.
 * A crash between publish and mark re-sends the rows: the transport and the inboxes deduplicate.
 *
 * Several replicas may run a relay on one outbox. Each batch is one transaction that takes a
 * transaction-level advisory lock for the outbox (try-lock: a relay that does not get it tries again
 * 20 ms later), claims the oldest rows `FOR UPDATE SKIP LOCKED`, publishes them, marks them and
 * commits. The lock, not SKIP LOCKED, is what keeps order: with row locks alone a second relay would
 * publish the rows after a claimed batch before it, and a failed batch would be re-sent after them.
 * So one relay publishes at a time per outbox; the others are hot standbys.
 *
 * The one exception is the embedded transport on PGlite: it writes the bus through the same single
 * connection the claiming transaction would hold. There (one process, by the data-directory lock)
 * relays of one outbox take turns in the process instead.
 */
export class OutboxRelay {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private claiming: Promise<boolean> | null = null;

  constructor(private readonly options: RelayOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Publishes everything pending now (unless another relay holds the outbox); returns how many events went out. */
  async drain(): Promise<number> {
    return (await this.pass(true)).sent;
  }

  /**
   * Batches until one comes back empty (`untilEmpty`) or, for the loop, short: a pass that finds a
   * few rows then costs one claiming transaction, not a second one that finds nothing (rows
   * committed meanwhile wake the loop again). `busy` when another relay holds the outbox.
   */
  private async pass(untilEmpty = false): Promise<{ sent: number; busy: boolean }> {
    const limit = this.options.batchSize ?? 200;
    let total = 0;
    for (;;) {
      const sent = await this.batch();
      if (sent === BUSY) return { sent: total, busy: true };
      total += sent;
      if (sent === 0 || (!untilEmpty && sent < limit)) return { sent: total, busy: false };
    }
  }

  /** Rows published, or BUSY when another relay holds the outbox. */
  private async batch(): Promise<number> {
    return (await this.claimsInDatabase()) ? this.claimBatch() : this.turnBatch();
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

  private claimBatch(): Promise<number> {
    const { db, schema } = this.options;
    return db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ locked: boolean }>`
        select pg_try_advisory_xact_lock(hashtext(${`c2c.relay.${schema}`})) as locked`.execute(trx);
      if (!rows[0]?.locked) return BUSY;
      return this.publishBatch(trx, true);
    });
  }

  private turnBatch(): Promise<number> {
    return inTurn(this.options.db, this.options.schema, () => this.publishBatch(this.options.db, false));
  }

  private async publishBatch(db: AnyDb, lock: boolean): Promise<number> {
    const { schema, transport } = this.options;
    const batch = await readUnpublished(db, schema, this.options.batchSize ?? 200, { lock });
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
    try {
      while (!this.abort.signal.aborted) {
        woken = false;
        let busy = false;
        try {
          const pass = await this.pass();
          busy = pass.busy;
          if (pass.sent > 0) log.debug({ schema, sent: pass.sent }, 'outbox relayed');
        } catch (error) {
          if (this.abort.signal.aborted) break;
          log.error({ err: error, schema }, 'outbox relay failed; retrying');
        }
        if (woken && !busy) continue;
        // Another replica's relay is publishing: it may have read the outbox before our rows were
        // committed, so try again shortly rather than at the next poll.
        const waitMs = busy ? BUSY_RETRY_MS : (this.options.pollMs ?? 1000);
        await signals.wait(outboxTopic(schema), waitMs, this.abort.signal);
      }
    } finally {
      stopListening();
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}
