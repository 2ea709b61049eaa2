import type { Logger } from 'pino';
import type { AnyDb } from './db.ts';
import { markPublished, readUnpublished } from './events.ts';
import { faultPoint } from './faults.ts';
import type { Signals } from './signals.ts';
import type { EventTransport } from './transport.ts';

export interface RelayOptions {
  db: AnyDb;
  schema: string;
  transport: EventTransport;
  signals: Signals;
  log: Logger;
  pollMs?: number;
  batchSize?: number;
}

/** Topic to notify after a commit that appended to `schema`'s outbox. */
export const outboxTopic = (schema: string) => `outbox:${schema}`;

/**
 * Moves committed outbox rows to the transport in commit order, then marks them published.
 * A crash between publish and mark re-sends the rows: the transport and the inboxes deduplicate.
 */
export class OutboxRelay {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(private readonly options: RelayOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Publishes everything pending now; returns how many events went out. */
  async drain(): Promise<number> {
    const { db, schema, transport } = this.options;
    let total = 0;
    for (;;) {
      const batch = await readUnpublished(db, schema, this.options.batchSize ?? 200);
      if (batch.length === 0) return total;
      faultPoint('outbox.after-commit');
      await transport.publish(batch.map((row) => row.event));
      faultPoint('relay.after-publish');
      await markPublished(
        db,
        schema,
        batch.map((row) => row.seq),
      );
      total += batch.length;
    }
  }

  private async run(): Promise<void> {
    const { signals, schema, log } = this.options;
    while (!this.abort.signal.aborted) {
      try {
        const sent = await this.drain();
        if (sent > 0) log.debug({ schema, sent }, 'outbox relayed');
      } catch (error) {
        if (this.abort.signal.aborted) break;
        log.error({ err: error, schema }, 'outbox relay failed; retrying');
      }
      await signals.wait(outboxTopic(schema), this.options.pollMs ?? 1000, this.abort.signal);
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}
