import { describe, expect, it } from 'vitest';
import { NonceCache, SIGNATURE_HEADERS, signRequest, verifyRequest } from '../src/auth/request-signing.ts';

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
});
