import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { AnyDb } from '../db/db.ts';

/**
 * This process's name as a lease holder. Everything in one process that takes a lease holds it
 * together (in-process work on it takes turns by other means, see relay.ts).
 */
export const PROCESS_HOLDER = `${process.pid}-${randomUUID()}`;

/** Default time a lease lasts without renewal: how long a dead holder's work waits for a successor. */
export const DEFAULT_LEASE_MS = 5000;

/**
 * A named lease in `schema.lease` (platform migration 0005): held by one process at a time until it
 * expires; the holder renews it while it works, and a stand-by takes it over once it has expired
 * (its holder died or stopped renewing). Expiry is decided by the database's clock; the holder
 * counts its lease from just before it asked, so it stops believing it holds the lease no later
 * than the database lets another process take it.
 */
export class Lease {
  private heldUntil = 0;
  private pending: Promise<boolean> | null = null;

  constructor(
    private readonly db: AnyDb,
    private readonly schema: string,
    readonly name: string,
    readonly ttlMs: number = DEFAULT_LEASE_MS,
    readonly holder: string = PROCESS_HOLDER,
  ) {}

  /** Held now, by this process's reckoning. */
  held(): boolean {
    return Date.now() < this.heldUntil;
  }

  /** Held, and with less than two thirds of its time left: time to renew. */
  private fresh(): boolean {
    return this.heldUntil - Date.now() > (this.ttlMs * 2) / 3;
  }

  /**
   * Takes or renews the lease (one statement) unless it was renewed recently; true while this
   * process holds it.
   */
  acquire(): Promise<boolean> {
    if (this.fresh()) return Promise.resolve(true);
    this.pending ??= (async () => {
      const asked = Date.now();
      const { rows } = await sql<{ holder: string }>`
        insert into ${sql.table(`${this.schema}.lease`)} as l (name, holder, expires_at)
        values (${this.name}, ${this.holder}, now() + make_interval(secs => ${this.ttlMs / 1000}))
        on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
          where l.holder = excluded.holder or l.expires_at < now()
        returning holder`.execute(this.db);
      this.heldUntil = rows.length > 0 ? asked + this.ttlMs : 0;
      return rows.length > 0;
    })().finally(() => (this.pending = null));
    return this.pending;
  }

  /** Gives the lease up (a stopping holder), so a stand-by need not wait for it to expire. */
  async release(): Promise<void> {
    if (this.heldUntil === 0) return;
    this.heldUntil = 0;
    await sql`delete from ${sql.table(`${this.schema}.lease`)}
      where name = ${this.name} and holder = ${this.holder}`.execute(this.db);
  }
}
