import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { AnyDb } from '../db/db.ts';
import { LeaseLostError, type LeaseClaim, type LeaseStore } from './transport.ts';

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
  private readonly store: DbLeaseStore;

  constructor(
    db: AnyDb,
    schema: string,
    readonly name: string,
    readonly ttlMs: number = DEFAULT_LEASE_MS,
    readonly holder: string = PROCESS_HOLDER,
  ) {
    this.store = new DbLeaseStore(db, schema, ttlMs, holder);
  }

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
      const held = (await this.store.claimMany([this.name])).has(this.name);
      this.heldUntil = held ? asked + this.ttlMs : 0;
      return held;
    })().finally(() => (this.pending = null));
    return this.pending;
  }

  /** Gives the lease up (a stopping holder), so a stand-by need not wait for it to expire. */
  async release(): Promise<void> {
    if (this.heldUntil === 0) return;
    this.heldUntil = 0;
    await this.store.release(this.name);
  }
}

/**
 * The leases of one schema as a LeaseStore (the partitions a batching consumer owns, see
 * nats-partition.ts), with the fence its batches run first in their transaction.
 */
export class DbLeaseStore implements LeaseStore {
  /**
   * `holder` defaults to a name of its own: each consumer subscription is a replica of its own
   * (unlike the relays of one process, which share PROCESS_HOLDER and take turns).
   */
  constructor(
    private readonly db: AnyDb,
    private readonly schema: string,
    readonly ttlMs: number = DEFAULT_LEASE_MS,
    readonly holder: string = `${process.pid}-${randomUUID()}`,
  ) {}

  async claimMany(names: string[]): Promise<Map<string, LeaseClaim>> {
    const claims = new Map<string, LeaseClaim>();
    if (names.length === 0) return claims;
    // `prior` reads the rows as they were before this statement: who held each, so that a row this
    // process already held is a renewal and one another held (expired) a takeover.
    const { rows } = await sql<{ name: string; prior: string | null }>`
      with prior as (
        select name, holder from ${sql.table(`${this.schema}.lease`)} where name = any(${names}::text[])
      )
      insert into ${sql.table(`${this.schema}.lease`)} as l (name, holder, expires_at)
      select n, ${this.holder}, now() + make_interval(secs => ${this.ttlMs / 1000})
      from unnest(${names}::text[]) as n
      on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
        where l.holder = excluded.holder or l.expires_at < now()
      returning l.name, (select p.holder from prior p where p.name = l.name) as prior`.execute(this.db);
    for (const row of rows)
      claims.set(row.name, row.prior === null ? 'new' : row.prior === this.holder ? 'renewed' : 'taken-over');
    return claims;
  }

  async release(name: string): Promise<void> {
    await sql`delete from ${sql.table(`${this.schema}.lease`)}
      where name = ${name} and holder = ${this.holder}`.execute(this.db);
  }

  async live(prefixes: string[]): Promise<string[]> {
    const { rows } = await sql<{ name: string }>`
      select name from ${sql.table(`${this.schema}.lease`)}
      where expires_at > now() and name like any(${prefixes.map((p) => `${p.replace(/[\\%_]/g, '\\$&')}%`)}::text[])`.execute(
      this.db,
    );
    return rows.map((row) => row.name);
  }

  /**
   * In a batch's transaction, first: renews `name` if this process still holds it — the row stays
   * locked until the commit, so no other process can take it over while the batch is applied — and
   * throws LeaseLostError if it does not (an expired lease nobody took is this process's again).
   */
  async fence(trx: AnyDb, name: string): Promise<void> {
    const { rows } = await sql<{ name: string }>`
      update ${sql.table(`${this.schema}.lease`)}
      set expires_at = now() + make_interval(secs => ${this.ttlMs / 1000})
      where name = ${name} and holder = ${this.holder}
      returning name`.execute(trx);
    if (rows.length === 0) throw new LeaseLostError(name);
  }
}
