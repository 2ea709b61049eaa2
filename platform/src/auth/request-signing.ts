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
 * Remembers nonces for the skew window so a captured request cannot be sent again. Entries sit in
 * arrival order (a Map keeps insertion order) and all live `ttlMs`, so the expired ones are always
 * at the front: each claim drops them from there, never scanning the rest (O(1) amortised per
 * request). At most `capacity` entries are held; beyond that the oldest is forgotten early, and
 * every request signed no later than a forgotten one is refused from then on (its nonce can no
 * longer be checked), which only ever touches requests far older than the ones in flight.
 */
export class NonceCache {
  private readonly seen = new Map<string, { expires: number; sentAt: number }>();
  /** Requests signed at or before this instant are refused: a nonce of theirs may have been forgotten. */
  private forgottenUpTo = -Infinity;
  /** Entries looked at to expire or evict others (a measure of work, for tests). */
  examined = 0;
  constructor(
    private readonly ttlMs: number = 2 * MAX_CLOCK_SKEW_MS,
    readonly capacity: number = 100_000,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /** True when the nonce is new (and remembers it); `sentAt` is the request's signed timestamp. */
  claim(nonce: string, now: number = Date.now(), sentAt: number = now): boolean {
    for (const [held, entry] of this.seen) {
      if (entry.expires > now) break;
      this.examined += 1;
      this.seen.delete(held);
    }
    if (sentAt <= this.forgottenUpTo) return false;
    const known = this.seen.get(nonce);
    if (known !== undefined) return false;
    while (this.seen.size >= this.capacity) {
      const oldest = this.seen.entries().next().value as [string, { sentAt: number }];
      this.examined += 1;
      this.seen.delete(oldest[0]);
      this.forgottenUpTo = Math.max(this.forgottenUpTo, oldest[1].sentAt);
    }
    this.seen.set(nonce, { expires: now + this.ttlMs, sentAt });
    return true;
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
