import { createHash } from 'node:crypto';
import type { Principal } from './principal.ts';

interface Entry {
  principal: Principal;
  /** Epoch ms after which the entry is never served: the token's `exp`, or sooner. */
  until: number;
}

/**
 * Bearer tokens already verified, so a caller's next requests skip the ES256 check. Keyed by the
 * SHA-256 of the exact token string: a token that differs in any byte (a tampered payload or
 * signature) is another key and is verified in full; the tokens themselves are not kept.
 *
 * An entry is served only before its `until` (the token's `exp`, capped by the caller) and is
 * dropped when read after it. Memory is bounded by two generations of at most `capacity / 2`
 * entries each: new entries go into the young one; a hit in the old one moves it to the young
 * one; when the young one is full it becomes the old one and the old one is dropped whole. So the
 * cache holds at most `capacity` entries, keeps what was used in the last generation (close to
 * least recently used), and never iterates (O(1) per request).
 */
export class VerifiedTokenCache {
  private young = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  private readonly generation: number;
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0)
      throw new Error('the verified-token cache size must be a whole number, 0 or more');
    this.generation = Math.max(1, Math.floor(capacity / 2));
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  /** The principal of a token verified before, if its entry is still good at `now` (epoch ms). */
  get(key: string, now: number): Principal | undefined {
    let entry = this.young.get(key);
    if (entry === undefined) {
      entry = this.old.get(key);
      if (entry !== undefined) {
        this.old.delete(key);
        if (entry.until > now) this.add(key, entry);
      }
    }
    if (entry === undefined || entry.until <= now) {
      if (entry !== undefined) this.young.delete(key);
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    return entry.principal;
  }

  /** Remembers a verified token's principal until `until` (epoch ms); nothing when already past. */
  set(key: string, principal: Principal, until: number, now: number): void {
    if (this.capacity === 0 || until <= now) return;
    this.old.delete(key);
    this.add(key, { principal, until });
  }

  private add(key: string, entry: Entry): void {
    if (!this.young.has(key) && this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, entry);
  }
}
