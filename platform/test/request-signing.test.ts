import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_CLOCK_SKEW_MS,
  NonceCache,
  SIGNATURE_HEADERS,
  signRequest,
  verifyRequest,
} from '../src/auth/request-signing.ts';

const secret = 'test-secret-with-enough-entropy-0123456789';
const identity = { sub: 'dev-support', role: 'support', scopes: ['c2c:read', 'c2c:amend'] };
const body = JSON.stringify({ query: '{ _service { sdl } }' });

describe('gateway → subgraph request signing', () => {
  it('accepts a signed request once and yields the signed identity', () => {
    const nonces = new NonceCache();
    const headers = signRequest(secret, { method: 'POST', body, identity }, 1_000_000);
    expect(verifyRequest(secret, { method: 'POST', body, headers }, nonces, 1_000_500)).toEqual({
      ok: true,
      identity,
    });
    expect(verifyRequest(secret, { method: 'POST', body, headers }, nonces, 1_000_600)).toEqual({
      ok: false,
      reason: 'REPLAYED',
    });
  });

  it.each([
    ['no signature at all', () => ({}), 'UNSIGNED'],
    ['a timestamp outside ±5 minutes', (h: Record<string, string>) => h, 'STALE', 6 * 60_000],
    [
      'another secret',
      () => signRequest('other-secret', { method: 'POST', body, identity }, 1_000_000),
      'FORGED',
    ],
    ['a changed body', (h: Record<string, string>) => h, 'FORGED', 0, '{"query":"mutation { x }"}'],
    [
      'a swapped identity header',
      (h: Record<string, string>) => ({
        ...h,
        [SIGNATURE_HEADERS.identity]: Buffer.from(JSON.stringify({ ...identity, role: 'admin' })).toString(
          'base64url',
        ),
      }),
      'FORGED',
    ],
    [
      'a garbage signature',
      (h: Record<string, string>) => ({ ...h, [SIGNATURE_HEADERS.signature]: 'zz' }),
      'FORGED',
    ],
  ] as const)('rejects %s', (_label, mutate, reason, skew = 0, otherBody: string = body) => {
    const signed = signRequest(secret, { method: 'POST', body, identity }, 1_000_000);
    const headers = (mutate as (h: Record<string, string>) => Record<string, string>)(signed);
    expect(
      verifyRequest(secret, { method: 'POST', body: otherBody, headers }, new NonceCache(), 1_000_000 + skew),
    ).toEqual({
      ok: false,
      reason,
    });
  });
});

describe('the nonce cache (issue 20: no cliff, bounded memory)', () => {
  it('expires nonces from the front: the work per request stays constant at any size', () => {
    const ttl = 1_000;
    const nonces = new NonceCache(ttl, 1_000_000);
    // 100,000 held nonces (ten times the size where the old cache began to scan on every request).
    let accepted = 0;
    for (let i = 0; i < 100_000; i++) if (nonces.claim(`n${i}`, 0)) accepted++;
    expect(accepted).toBe(100_000);
    expect(nonces.size).toBe(100_000);
    nonces.examined = 0;
    for (let i = 0; i < 1_000; i++) expect(nonces.claim(`m${i}`, 1)).toBe(true);
    expect(nonces.examined).toBe(0);
    // Once the first 100,000 expire, each is looked at exactly once, not once per request.
    for (let i = 0; i < 1_000; i++) expect(nonces.claim(`late${i}`, ttl + 1 + i)).toBe(true);
    expect(nonces.examined).toBe(101_000);
    expect(nonces.size).toBe(1_000);
  });

  it('holds at most its capacity, and refuses what it can no longer vouch for', () => {
    const nonces = new NonceCache(60_000, 10_000);
    let accepted = 0;
    for (let i = 0; i < 50_000; i++) if (nonces.claim(`n${i}`, i, i)) accepted++;
    expect(accepted).toBe(50_000);
    expect(nonces.size).toBe(10_000);
    expect(nonces.examined).toBe(40_000);
    // A forgotten nonce replayed (same signed timestamp) is still refused …
    expect(nonces.claim('n5', 50_000, 5)).toBe(false);
    // … as is a remembered one, while new requests signed now are accepted.
    expect(nonces.claim('n49999', 50_000, 49_999)).toBe(false);
    expect(nonces.claim('fresh', 50_001, 50_001)).toBe(true);
  });

  it('lets a nonce be used again only after it expired', () => {
    const nonces = new NonceCache(1_000);
    expect(nonces.claim('a', 0)).toBe(true);
    expect(nonces.claim('a', 999)).toBe(false);
    expect(nonces.claim('a', 1_000)).toBe(true);
  });

  // Random traffic: nonces from a small pool (so replays are common), clocks that only move forward,
  // signed timestamps anywhere in the accepted skew.
  const traffic = fc.array(
    fc.record({
      nonce: fc.integer({ min: 0, max: 40 }).map((n) => `n${n}`),
      advance: fc.integer({ min: 0, max: 400 }),
      skew: fc.integer({ min: -1_000, max: 1_000 }),
    }),
    { maxLength: 400 },
  );

  it('never accepts a nonce again within its window, and within capacity accepts exactly the fresh ones', () => {
    const ttl = 2_000;
    fc.assert(
      fc.property(traffic, (requests) => {
        const nonces = new NonceCache(ttl, 1_000_000);
        const acceptedAt = new Map<string, number>();
        let now = 0;
        for (const { nonce, advance, skew } of requests) {
          now += advance;
          const last = acceptedAt.get(nonce);
          const fresh = last === undefined || now >= last + ttl;
          expect(nonces.claim(nonce, now, now + skew)).toBe(fresh);
          if (fresh) acceptedAt.set(nonce, now);
        }
      }),
    );
  });

  it('at its capacity still never accepts a replay inside the window, and holds no more than the capacity', () => {
    const ttl = 2_000;
    fc.assert(
      fc.property(traffic, fc.integer({ min: 1, max: 12 }), (requests, capacity) => {
        const nonces = new NonceCache(ttl, capacity);
        const acceptedAt = new Map<string, number>();
        // A replay is the same signed request: the nonce with the timestamp it was first signed with.
        const signedAt = new Map<string, number>();
        let now = 0;
        for (const { nonce, advance, skew } of requests) {
          now += advance;
          const last = acceptedAt.get(nonce);
          if (!signedAt.has(nonce)) signedAt.set(nonce, now + skew);
          const accepted = nonces.claim(nonce, now, signedAt.get(nonce));
          // Safety only: under pressure it may refuse what it can no longer vouch for.
          if (last !== undefined && now < last + ttl) expect(accepted).toBe(false);
          if (accepted) acceptedAt.set(nonce, now);
          expect(nonces.size).toBeLessThanOrEqual(capacity);
        }
      }),
    );
  });

  it('refuses a signed request replayed anywhere in its window through verifyRequest, and forgets it after', () => {
    const nonces = new NonceCache();
    const sentAt = 5_000_000;
    const headers = signRequest(secret, { method: 'POST', body, identity }, sentAt);
    const verify = (at: number) => verifyRequest(secret, { method: 'POST', body, headers }, nonces, at);
    expect(verify(sentAt + 10).ok).toBe(true);
    // Other traffic keeps arriving; the replay is refused until the request itself is stale.
    for (let at = sentAt + 1_000; at <= sentAt + MAX_CLOCK_SKEW_MS; at += 1_000) {
      expect(nonces.claim(`other-${at}`, at)).toBe(true);
      expect(verify(at)).toEqual({ ok: false, reason: 'REPLAYED' });
    }
    expect(verify(sentAt + MAX_CLOCK_SKEW_MS + 1)).toEqual({ ok: false, reason: 'STALE' });
    // Its nonce is held no longer than needed: once expired, the cache itself has forgotten it.
    const held = nonces.size;
    expect(nonces.claim(headers[SIGNATURE_HEADERS.nonce]!, sentAt + 2 * MAX_CLOCK_SKEW_MS + 10)).toBe(true);
    expect(nonces.size).toBe(held);
  });
});
