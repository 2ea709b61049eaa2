/**
 * Where the entity cache keeps its entries. In memory (one process: the embedded shape, or a
 * replica on its own) or in Redis (shared by the gateway replicas of the scaled-out shape).
 *
 * A read that started before an invalidation must not store what it read after it: `begin()` hands
 * out a ticket before the subgraph is asked, and `set` refuses an entry one of whose tags was
 * invalidated after that ticket.
 */
export interface CacheStore {
  readonly name: string;
  begin(): Promise<Ticket>;
  /** Ends a read that stores nothing (errors, nothing to keep). */
  end(ticket: Ticket): void;
  get(keys: string[]): Promise<(string | undefined)[]>;
  /** Stores the entries read under `ticket` (and ends it); returns how many were refused as stale. */
  set(ticket: Ticket, entries: CacheEntry[]): Promise<number>;
  /** Removes every entry carrying one of the tags; returns how many. */
  invalidate(tags: string[]): Promise<number>;
  /** Removes everything (e.g. after missing invalidations). */
  clear(): Promise<void>;
  stats(): { entries: number; bytes: number };
  close(): Promise<void>;
}

export type Ticket = number;

/** The pseudo-tag `clear()` invalidates: every entry. */
const EVERYTHING = '*';

export interface CacheEntry {
  key: string;
  value: string;
  tags: string[];
  ttlMs: number;
}

export interface StoreEvents {
  /** An entry left because the byte bound needed room, or its max age passed. */
  evicted?(reason: 'capacity' | 'expired', count: number): void;
  /** A shared store could not be reached; the read went to the subgraph, or nothing was stored. */
  failed?(operation: string, error: unknown): void;
}

interface MemoryEntry {
  value: string;
  tags: string[];
  expiresAt: number;
  bytes: number;
}

/** Bytes an entry is charged: its strings (UTF-16) and a fixed share for the maps and the tag index. */
export function entryBytes(key: string, value: string, tags: string[]): number {
  return 2 * (key.length + value.length) + tags.reduce((sum, tag) => sum + 2 * tag.length + 48, 0) + 160;
}

/**
 * An in-process LRU bounded by bytes (`maxBytes`), with a tag index for invalidation and a max age
 * per entry (checked when read).
 */
export class MemoryCacheStore implements CacheStore {
  readonly name = 'memory';
  private readonly entries = new Map<string, MemoryEntry>();
  private readonly byTag = new Map<string, Set<string>>();
  private bytes = 0;
  private sequence = 0;
  /** Tag → the sequence number of its last invalidation, kept while a read older than it is in flight. */
  private readonly invalidated = new Map<string, number>();
  /** Tickets in flight → how many reads hold each (in increasing order: a Map keeps insertion order). */
  private readonly inflight = new Map<number, number>();

  constructor(
    private readonly maxBytes: number,
    private readonly events: StoreEvents = {},
    private readonly now: () => number = Date.now,
  ) {}

  async begin(): Promise<Ticket> {
    const ticket = this.sequence;
    this.inflight.set(ticket, (this.inflight.get(ticket) ?? 0) + 1);
    return ticket;
  }

  end(ticket: Ticket): void {
    const held = (this.inflight.get(ticket) ?? 1) - 1;
    if (held > 0) this.inflight.set(ticket, held);
    else this.inflight.delete(ticket);
    if (this.inflight.size === 0) this.invalidated.clear();
    else if (this.invalidated.size > 10_000) {
      const oldest = this.inflight.keys().next().value as number;
      for (const [tag, at] of this.invalidated) if (at <= oldest) this.invalidated.delete(tag);
    }
  }

  async get(keys: string[]): Promise<(string | undefined)[]> {
    const now = this.now();
    return keys.map((key) => {
      const entry = this.entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= now) {
        this.remove(key, entry);
        this.events.evicted?.('expired', 1);
        return undefined;
      }
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry.value;
    });
  }

  async set(ticket: Ticket, entries: CacheEntry[]): Promise<number> {
    let refused = 0;
    const now = this.now();
    for (const { key, value, tags, ttlMs } of entries) {
      const stale = (tag: string) => (this.invalidated.get(tag) ?? -1) > ticket;
      if (stale(EVERYTHING) || tags.some(stale)) {
        refused += 1;
        continue;
      }
      const bytes = entryBytes(key, value, tags);
      if (bytes > this.maxBytes) continue;
      const existing = this.entries.get(key);
      if (existing) this.remove(key, existing);
      this.entries.set(key, { value, tags, expiresAt: now + ttlMs, bytes });
      this.bytes += bytes;
      for (const tag of tags) {
        let keys = this.byTag.get(tag);
        if (!keys) this.byTag.set(tag, (keys = new Set()));
        keys.add(key);
      }
    }
    let dropped = 0;
    while (this.bytes > this.maxBytes) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, MemoryEntry];
      this.remove(oldestKey, oldest);
      dropped += 1;
    }
    if (dropped) this.events.evicted?.('capacity', dropped);
    this.end(ticket);
    return refused;
  }

  async invalidate(tags: string[]): Promise<number> {
    this.sequence += 1;
    let removed = 0;
    for (const tag of tags) {
      if (this.inflight.size) this.invalidated.set(tag, this.sequence);
      const keys = this.byTag.get(tag);
      if (!keys) continue;
      for (const key of [...keys]) {
        const entry = this.entries.get(key);
        if (entry) {
          this.remove(key, entry);
          removed += 1;
        }
      }
    }
    return removed;
  }

  async clear(): Promise<void> {
    this.sequence += 1;
    // Reads in flight may hold anything: none of them may store.
    if (this.inflight.size) this.invalidated.set(EVERYTHING, this.sequence);
    this.entries.clear();
    this.byTag.clear();
    this.bytes = 0;
  }

  stats(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  async close(): Promise<void> {
    await this.clear();
  }

  private remove(key: string, entry: MemoryEntry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.byTag.delete(tag);
    }
  }
}
