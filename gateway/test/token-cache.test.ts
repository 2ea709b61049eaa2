import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, VERIFIED_TOKEN_MAX_AGE_MS, type AuthConfig } from '../src/auth.ts';
import { VerifiedTokenCache } from '../src/token-cache.ts';

const issuer = 'urn:test-issuer';
const audience = 'c2c-supergraph';
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let config: AuthConfig;

async function token(claims: JWTPayload = {}): Promise<string> {
  const iat = Math.floor(T0 / 1000);
  return new SignJWT({
    scope: 'c2c:read c2c:amend',
    role: 'support',
    iss: issuer,
    aud: audience,
    sub: 'alice',
    iat,
    exp: iat + 600,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'k1' })
    .sign(keys.privateKey);
}

/** An authenticator on a clock the test moves, counting cache hits and misses. */
function authenticator(overrides: Partial<AuthConfig> = {}) {
  const clock = { now: T0 };
  const lookups = { hit: 0, miss: 0 };
  const authenticate = createAuthenticator(
    { ...config, ...overrides },
    { now: () => clock.now, onCacheLookup: (hit) => (hit ? lookups.hit++ : lookups.miss++) },
  );
  return { authenticate, clock, lookups };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  keys = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256' };
  config = { issuer, audience, jwks: { keys: [jwk] }, algorithms: ['ES256'], clockToleranceSeconds: 30 };
});

describe('verified tokens cached until expiry (issue 19)', () => {
  it('verifies a token once and serves its next requests from the cache, same principal', async () => {
    const { authenticate, lookups } = authenticator();
    const header = `Bearer ${await token()}`;
    const first = await authenticate(header);
    expect(first).toEqual({
      ok: true,
      principal: { sub: 'alice', role: 'support', scopes: ['c2c:read', 'c2c:amend'] },
    });
    expect(await authenticate(header)).toEqual(first);
    expect(await authenticate(header)).toEqual(first);
    expect(lookups).toEqual({ hit: 2, miss: 1 });
    // The principal is shared between requests, so nobody may change it.
    if (!first.ok) return;
    expect(Object.isFrozen(first.principal) && Object.isFrozen(first.principal.scopes)).toBe(true);
  });

  it('refuses an expired token even though it was cached (never served at or after exp)', async () => {
    // No clock tolerance, so that at exp jose refuses as well: what is left to prove is the cache's part.
    const { authenticate, clock, lookups } = authenticator({ clockToleranceSeconds: 0 });
    const exp = Math.floor(T0 / 1000) + 20;
    const header = `Bearer ${await token({ exp })}`;
    expect((await authenticate(header)).ok).toBe(true);
    clock.now = exp * 1000 - 1;
    expect((await authenticate(header)).ok).toBe(true);
    expect(lookups).toEqual({ hit: 1, miss: 1 });
    clock.now = exp * 1000;
    expect(await authenticate(header)).toMatchObject({ ok: false, reason: 'token expired' });
    expect(lookups).toEqual({ hit: 1, miss: 2 });
  });

  it('with the clock tolerance, a cached token past exp is verified again, and refused beyond the tolerance', async () => {
    const { authenticate, clock, lookups } = authenticator({ clockToleranceSeconds: 30 });
    const exp = Math.floor(T0 / 1000) + 20;
    const header = `Bearer ${await token({ exp })}`;
    expect((await authenticate(header)).ok).toBe(true);
    clock.now = exp * 1000 + 5_000; // jose's tolerance accepts it; the cache does not serve it
    expect((await authenticate(header)).ok).toBe(true);
    expect(lookups.hit).toBe(0);
    clock.now = exp * 1000 + 31_000;
    expect(await authenticate(header)).toMatchObject({ ok: false, reason: 'token expired' });
  });

  it('never accepts a tampered copy of a cached token', async () => {
    const { authenticate, lookups } = authenticator();
    const good = await token();
    expect((await authenticate(`Bearer ${good}`)).ok).toBe(true);
    const [h, p, s] = good.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    // A character inside the signature (the last one carries padding bits that jose's decoder
    // ignores, so changing it may leave the same signature bytes: a valid token, cache or not).
    const other = s[10] === 'A' ? 'B' : 'A';
    const tampered = [
      `${h}.${b64({ ...payload, role: 'admin', scope: 'c2c:read c2c:amend c2c:finance c2c:admin' })}.${s}`,
      `${h}.${b64({ ...payload, sub: 'mallory' })}.${s}`,
      `${h}.${p}.${s.slice(0, 10)}${other}${s.slice(11)}`,
      `${h}.${p}.`,
      `${h}.${p}`,
    ];
    for (const copy of tampered) {
      expect(await authenticate(`Bearer ${copy}`)).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });
    }
    // The real token is still served from the cache, with its own principal.
    expect(await authenticate(`Bearer ${good}`)).toMatchObject({ ok: true, principal: { sub: 'alice' } });
    expect(lookups.hit).toBe(1);
  });

  it(`re-verifies a token ${VERIFIED_TOKEN_MAX_AGE_MS / 1000} s after its verification, however late its exp`, async () => {
    const { authenticate, clock, lookups } = authenticator();
    const header = `Bearer ${await token({ exp: Math.floor(T0 / 1000) + 3600 })}`;
    await authenticate(header);
    clock.now = T0 + VERIFIED_TOKEN_MAX_AGE_MS - 1;
    await authenticate(header);
    clock.now = T0 + VERIFIED_TOKEN_MAX_AGE_MS;
    expect((await authenticate(header)).ok).toBe(true);
    expect(lookups).toEqual({ hit: 1, miss: 2 });
  });

  it('with a size of 0 verifies every request', async () => {
    const { authenticate, lookups } = authenticator({ verifiedTokenCacheSize: 0 });
    const header = `Bearer ${await token()}`;
    expect((await authenticate(header)).ok).toBe(true);
    expect((await authenticate(header)).ok).toBe(true);
    expect(lookups).toEqual({ hit: 0, miss: 0 });
  });

  it('holds at most its size: the tokens of many principals push out the least recently used', async () => {
    const { authenticate, lookups } = authenticator({ verifiedTokenCacheSize: 4 });
    const headers = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => `Bearer ${await token({ sub: `user-${i}` })}`),
    );
    for (const header of headers) expect((await authenticate(header)).ok).toBe(true);
    // The last ones are held; the first ones were dropped and are verified again, and still accepted.
    expect((await authenticate(headers[9]!)).ok).toBe(true);
    expect((await authenticate(headers[0]!)).ok).toBe(true);
    expect(lookups).toEqual({ hit: 1, miss: 11 });
  });
});

describe('VerifiedTokenCache', () => {
  const principal = { sub: 'a', role: null, scopes: [] };

  it('never holds more than its capacity and keeps what was used recently', () => {
    const cache = new VerifiedTokenCache(100);
    for (let i = 0; i < 10_000; i++) {
      cache.set(`k${i}`, principal, 1_000, 0);
      // k0 is used all along, so it is never the one dropped.
      expect(cache.get('k0', 0)).toBe(principal);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.get('k9999', 0)).toBe(principal);
    expect(cache.get('k5000', 0)).toBeUndefined();
  });

  it('drops an entry read at or after its end, and never stores one already past it', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('a', principal, 100, 0);
    cache.set('b', principal, 100, 100);
    expect(cache.size).toBe(1);
    expect(cache.get('a', 99)).toBe(principal);
    expect(cache.get('a', 100)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keys tokens by a hash of their exact text', () => {
    expect(VerifiedTokenCache.keyOf('a.b.c')).toBe(VerifiedTokenCache.keyOf('a.b.c'));
    expect(VerifiedTokenCache.keyOf('a.b.c')).not.toBe(VerifiedTokenCache.keyOf('a.b.d'));
    expect(VerifiedTokenCache.keyOf('a.b.c')).not.toContain('a.b.c');
  });
});
