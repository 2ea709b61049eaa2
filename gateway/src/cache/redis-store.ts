import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { CacheEntry, CacheStore, StoreEvents, Ticket } from './store.ts';

/**
 * The entity cache's store shared by the gateway replicas of the scaled-out shape: one Redis server
 * (or a primary with replicas; not Redis Cluster — the scripts touch keys they compute). Same
 * semantics as `MemoryCacheStore` (docs/cache.md "Redis"):
 *
 * - `<prefix>e:<key>`: an entry's value, with its max age as the key's expiry (`PX`).
 * - `<prefix>t:<tag>`: a sorted set of the entries carrying the tag, scored by their expiry; members
 *   past it are trimmed whenever the tag gains one, and the set expires with its last entry.
 * - `<prefix>seq`: the invalidation counter; `<prefix>v:<tag>`: the counter's value at the tag's last
 *   invalidation (`v:*` for a clear), kept for `versionTtlMs` — longer than any read can be in
 *   flight. A ticket is the counter when a read began; storing it (one script, atomic) refuses
 *   every entry a tag of which was invalidated after the ticket.
 *
 * Every key we write but `seq` expires: memory is bounded by what the gateway stores within one max
 * age (plus a minute for the tag indexes and `versionTtlMs` for the versions). Redis's `maxmemory`
 * is the operator's; size it so that nothing is evicted in normal operation, with
 * `maxmemory-policy volatile-ttl` (entries, with the shortest expiries, go before the indexes and
 * versions that keep them fresh; `seq` has no expiry and is never evicted).
 */
export interface RedisCacheStoreOptions {
  url: string;
  /** Every key starts with it (default `c2c:cache:`), so that several systems can share a server. */
  prefix?: string;
  /** How long an invalidation is remembered for reads in flight (default 10 minutes). */
  versionTtlMs?: number;
  /** A Redis command that takes longer fails; the read goes to the subgraph (default 1000 ms). */
  commandTimeoutMs?: number;
  /** Seconds between counts of the entries for the gauges (0: never; default 30). */
  statsIntervalS?: number;
  events?: StoreEvents;
}

const SET_SCRIPT = `
local prefix = ARGV[1]
local ticket = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local function stale(tag)
  local v = redis.call('GET', prefix .. 'v:' .. tag)
  return v ~= false and tonumber(v) > ticket
end
local everything = stale('*')
local refused = 0
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  local key, value, ttl, ntags = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  i = i + 4
  local bad = everything
  local j = 0
  while not bad and j < ntags do
    bad = stale(ARGV[i + j])
    j = j + 1
  end
  if bad then
    refused = refused + 1
  else
    local entry = prefix .. 'e:' .. key
    redis.call('SET', entry, value, 'PX', ttl)
    for k = 0, ntags - 1 do
      local index = prefix .. 't:' .. ARGV[i + k]
      redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
      redis.call('ZADD', index, now + ttl, entry)
      if redis.call('PTTL', index) < ttl + 60000 then redis.call('PEXPIRE', index, ttl + 60000) end
    end
  end
  i = i + ntags
end
return refused
`;

const INVALIDATE_SCRIPT = `
local prefix = ARGV[1]
local seq = redis.call('INCR', prefix .. 'seq')
local removed = 0
for i = 3, #ARGV do
  local tag = ARGV[i]
  redis.call('SET', prefix .. 'v:' .. tag, seq, 'PX', ARGV[2])
  local index = prefix .. 't:' .. tag
  local members = redis.call('ZRANGE', index, 0, -1)
  for j = 1, #members, 500 do
    removed = removed + redis.call('DEL', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('DEL', index)
end
return removed
`;

interface Started {
  seq: number;
  at: number;
}

export class RedisCacheStore implements CacheStore {
  readonly name = 'redis';
  private readonly prefix: string;
  private readonly versionTtlMs: number;
  private readonly tickets = new Map<Ticket, Started | null>();
  private nextTicket = 1;
  private counted = { entries: 0, bytes: 0 };
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly redis: Redis,
    private readonly options: RedisCacheStoreOptions,
  ) {
    this.prefix = options.prefix ?? 'c2c:cache:';
    this.versionTtlMs = options.versionTtlMs ?? 10 * 60_000;
  }

  /** Connects (failing with a clear message when Redis does not answer) and returns the store. */
  static async connect(options: RedisCacheStoreOptions): Promise<RedisCacheStore> {
    const redis = new Redis(options.url, {
      lazyConnect: true,
      // A read never waits for Redis to come back: it goes to the subgraph.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 1000,
      connectionName: 'c2c-gateway-cache',
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    // Failures are reported per command; the connection's own errors would otherwise be unhandled.
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      throw new Error(
        `the entity cache's Redis at ${redactedUrl(options.url)} did not answer: ${(error as Error).message}`,
      );
    }
    const store = new RedisCacheStore(redis, options);
    const interval = options.statsIntervalS ?? 30;
    if (interval > 0) {
      store.timer = setInterval(() => void store.count(), interval * 1000);
      store.timer.unref();
      void store.count();
    }
    return store;
  }

  async begin(): Promise<Ticket> {
    const ticket = this.nextTicket++;
    try {
      const seq = await this.redis.get(`${this.prefix}seq`);
      this.tickets.set(ticket, { seq: Number(seq ?? 0), at: Date.now() });
    } catch (error) {
      // Without the counter nothing read now can be proved fresh: it is not stored.
      this.tickets.set(ticket, null);
      this.options.events?.failed?.('begin', error);
    }
    return ticket;
  }

  end(ticket: Ticket): void {
    this.tickets.delete(ticket);
  }

  async get(keys: string[]): Promise<(string | undefined)[]> {
    if (!keys.length) return [];
    try {
      const values = await this.redis.mget(keys.map((key) => `${this.prefix}e:${key}`));
      return values.map((value) => value ?? undefined);
    } catch (error) {
      this.options.events?.failed?.('get', error);
      return keys.map(() => undefined);
    }
  }

  async set(ticket: Ticket, entries: CacheEntry[]): Promise<number> {
    const started = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    // A read older than the invalidations Redis remembers cannot be checked: not stored.
    if (!started || Date.now() - started.at >= this.versionTtlMs || !entries.length) return 0;
    const args: (string | number)[] = [this.prefix, started.seq, Date.now(), entries.length];
    for (const { key, value, tags, ttlMs } of entries)
      args.push(key, value, Math.max(1, Math.round(ttlMs)), tags.length, ...tags);
    try {
      return Number(await this.script(SET_SCRIPT, args));
    } catch (error) {
      this.options.events?.failed?.('set', error);
      return 0;
    }
  }

  /** Throws when Redis cannot be reached: the caller decides whether to retry. */
  async invalidate(tags: string[]): Promise<number> {
    if (!tags.length) return 0;
    return Number(await this.script(INVALIDATE_SCRIPT, [this.prefix, this.versionTtlMs, ...tags]));
  }

  /** Every entry and tag index of the prefix; reads in flight store nothing. Throws when Redis cannot be reached. */
  async clear(): Promise<void> {
    await this.script(INVALIDATE_SCRIPT, [this.prefix, this.versionTtlMs, '*']);
    for (const kind of ['e', 't']) {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(
          cursor,
          'MATCH',
          `${globEscape(this.prefix)}${kind}:*`,
          'COUNT',
          1000,
        );
        if (keys.length) await this.redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    this.counted = { entries: 0, bytes: this.counted.bytes };
  }

  /** Entries: counted every `statsIntervalS`; bytes: the Redis server's `used_memory` (the whole server). */
  stats(): { entries: number; bytes: number } {
    return this.counted;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async count(): Promise<void> {
    try {
      let entries = 0;
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(
          cursor,
          'MATCH',
          `${globEscape(this.prefix)}e:*`,
          'COUNT',
          1000,
        );
        entries += keys.length;
        cursor = next;
      } while (cursor !== '0');
      const memory = /used_memory:(\d+)/.exec(await this.redis.info('memory'))?.[1];
      this.counted = { entries, bytes: Number(memory ?? 0) };
    } catch (error) {
      this.options.events?.failed?.('stats', error);
    }
  }

  /** Runs a script by its digest, loading it the first time the server does not know it. */
  private async script(source: string, args: (string | number)[]): Promise<unknown> {
    const sha = digestOf(source);
    try {
      return await this.redis.evalsha(sha, 0, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return this.redis.eval(source, 0, ...args);
    }
  }
}

const digests = new Map<string, string>();
function digestOf(source: string): string {
  let sha = digests.get(source);
  if (!sha) digests.set(source, (sha = createHash('sha1').update(source).digest('hex')));
  return sha;
}

/** A prefix as a literal in a SCAN pattern. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** A Redis URL without its password, for messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an unparseable URL';
  }
}
