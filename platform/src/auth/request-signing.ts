import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Gateway → subgraph request signing: HMAC-SHA256 over the method, a hash of the body, a
 * timestamp, a nonce and the identity, with a secret per subgraph. The identity travels only
 * inside the signed data, so a client-supplied header cannot change who the subgraph thinks it is.
 */
export const SIGNATURE_HEADERS = {
  identity: 'x-c2c-identity',
  timestamp: 'x-c2c-timestamp',
  nonce: 'x-c2c-nonce',
  signature: 'x-c2c-signature',
} as const;

/** Who the gateway says is calling. */
export interface Identity {
  sub: string;
  role: string | null;
  scopes: string[];
}

export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

function canonical(
  method: string,
  bodyHash: string,
  timestamp: string,
  nonce: string,
  identity: string,
): string {
  return ['c2c-v1', method.toUpperCase(), bodyHash, timestamp, nonce, identity].join('\n');
}

function hmac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

/** Headers that sign one request. */
export function signRequest(
  secret: string,
  request: { method: string; body: string; identity: Identity },
  now: number = Date.now(),
): Record<string, string> {
  const identity = Buffer.from(JSON.stringify(request.identity), 'utf8').toString('base64url');
  const timestamp = String(now);
  const nonce = randomBytes(16).toString('base64url');
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  return {
    [SIGNATURE_HEADERS.identity]: identity,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: hmac(
      secret,
      canonical(request.method, bodyHash, timestamp, nonce, identity),
    ),
  };
}

export type VerifyFailure = 'UNSIGNED' | 'STALE' | 'REPLAYED' | 'FORGED';

/**
 * Remembers nonces for the skew window so a captured request cannot be sent again.
 *
 * Every nonce lives `ttlMs` from its arrival, so arrival order is expiry order: the nonces sit in a
 * ring buffer next to a Set for membership, and each claim drops the
 * expired ones from the head — work proportional to what expires, never to what is held (O(1)
 * amortised per request). Not a Map iterated from the front: V8 leaves a deleted Map entry as a
 * hole until the table is rebuilt, so a loop that restarts at the front walks every hole deleted
 * since, which cost 40 µs per request at 150,000 held nonces (`npm run bench -- --only micro`).
 *
 * At most `capacity` nonces are held (the ring never grows past it). Beyond that the oldest is forgotten early, and from then on
 * every request signed at or before the latest forgotten one's timestamp is refused as a replay
 * (its nonce can no longer be checked): fail closed, never open. With synchronised clocks that
 * only refuses requests older than the held window (100,000 nonces at 1,000 requests/s = 100 s),
 * far older than any in flight; a gateway whose clock lags by more than that window would see its
 * requests refused while the subgraph is at capacity.
 */
export class NonceCache {
  private readonly held = new Set<string>();
  // A ring buffer, oldest first: the entry at `head` arrived first, so it expires first. It grows
  // by doubling up to `capacity` entries and never shrinks.
  private nonces: (string | undefined)[] = [];
  private expiresAt = new Float64Array(0);
  private signedAt = new Float64Array(0);
  private head = 0;
  private count = 0;
  /** Requests signed at or before this instant are refused: a nonce of theirs may have been forgotten. */
  private forgottenUpTo = -Infinity;
  /** Entries looked at to expire or evict others (a measure of work, for tests). */
  examined = 0;
  constructor(
    private readonly ttlMs: number = 2 * MAX_CLOCK_SKEW_MS,
    readonly capacity: number = 100_000,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new Error('a nonce cache holds a whole number of nonces, at least one');
  }

  get size(): number {
    return this.count;
  }

  /** True when the nonce is new (and remembers it); `sentAt` is the request's signed timestamp. */
  claim(nonce: string, now: number = Date.now(), sentAt: number = now): boolean {
    while (this.count > 0 && (this.expiresAt[this.head] as number) <= now) {
      this.examined += 1;
      this.dropOldest();
    }
    if (sentAt <= this.forgottenUpTo) return false;
    if (this.held.has(nonce)) return false;
    if (this.count === this.capacity) {
      this.examined += 1;
      this.forgottenUpTo = Math.max(this.forgottenUpTo, this.signedAt[this.head] as number);
      this.dropOldest();
    }
    if (this.count === this.nonces.length) this.grow();
    const tail = (this.head + this.count) % this.nonces.length;
    this.nonces[tail] = nonce;
    this.expiresAt[tail] = now + this.ttlMs;
    this.signedAt[tail] = sentAt;
    this.count += 1;
    this.held.add(nonce);
    return true;
  }

  private dropOldest(): void {
    this.held.delete(this.nonces[this.head] as string);
    this.nonces[this.head] = undefined;
    this.head = (this.head + 1) % this.nonces.length;
    this.count -= 1;
  }

  /** Doubles the ring (at most to the capacity), oldest entry first again. */
  private grow(): void {
    const length = Math.min(this.capacity, Math.max(1024, this.nonces.length * 2));
    const nonces = new Array<string | undefined>(length);
    const expiresAt = new Float64Array(length);
    const signedAt = new Float64Array(length);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) % this.nonces.length;
      nonces[i] = this.nonces[from];
      expiresAt[i] = this.expiresAt[from] as number;
      signedAt[i] = this.signedAt[from] as number;
    }
    this.nonces = nonces;
    this.expiresAt = expiresAt;
    this.signedAt = signedAt;
    this.head = 0;
  }
}

const header = (headers: Record<string, string | string[] | undefined>, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Verifies a signed request; returns the identity, or why it is refused. */
export function verifyRequest(
  secret: string,
  request: { method: string; body: string; headers: Record<string, string | string[] | undefined> },
  nonces: NonceCache,
  now: number = Date.now(),
): { ok: true; identity: Identity } | { ok: false; reason: VerifyFailure } {
  const identity = header(request.headers, SIGNATURE_HEADERS.identity);
  const timestamp = header(request.headers, SIGNATURE_HEADERS.timestamp);
  const nonce = header(request.headers, SIGNATURE_HEADERS.nonce);
  const signature = header(request.headers, SIGNATURE_HEADERS.signature);
  if (!identity || !timestamp || !nonce || !signature) return { ok: false, reason: 'UNSIGNED' };
  const sentAt = Number(timestamp);
  if (!Number.isSafeInteger(sentAt) || Math.abs(now - sentAt) > MAX_CLOCK_SKEW_MS)
    return { ok: false, reason: 'STALE' };
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  const expected = Buffer.from(
    hmac(secret, canonical(request.method, bodyHash, timestamp, nonce, identity)),
    'hex',
  );
  const given = Buffer.from(/^[0-9a-f]{64}$/.test(signature) ? signature : '', 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'FORGED' };
  // Only a correctly signed request may consume a nonce, so forgeries cannot burn real ones.
  if (!nonces.claim(nonce, now, sentAt)) return { ok: false, reason: 'REPLAYED' };
  try {
    const parsed = JSON.parse(Buffer.from(identity, 'base64url').toString('utf8')) as Identity;
    if (typeof parsed.sub !== 'string' || !Array.isArray(parsed.scopes))
      return { ok: false, reason: 'FORGED' };
    return {
      ok: true,
      identity: { sub: parsed.sub, role: parsed.role ?? null, scopes: parsed.scopes.map(String) },
    };
  } catch {
    return { ok: false, reason: 'FORGED' };
  }
}
