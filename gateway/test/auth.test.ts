import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, parseAuthorization, wwwAuthenticate } from '../src/auth.ts';

const issuer = 'urn:test-issuer';
const audience = 'c2c-supergraph';
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let authenticate: ReturnType<typeof createAuthenticator>;

async function token(claims: JWTPayload = {}, header: Record<string, unknown> = {}, key = keys.privateKey) {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    scope: 'c2c:read c2c:amend',
    role: 'support',
    iss: issuer,
    aud: audience,
    sub: 'alice',
    iat: now,
    exp: now + 600,
    ...claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'k1', ...header })
    .sign(key);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  keys = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256' };
  authenticate = createAuthenticator({
    issuer,
    audience,
    jwks: { keys: [jwk] },
    algorithms: ['ES256'],
    clockToleranceSeconds: 30,
  });
});

describe('bearer token verification (security checklist S29)', () => {
  it('accepts a valid token and reads the principal', async () => {
    expect(await authenticate(`Bearer ${await token()}`)).toEqual({
      ok: true,
      principal: { sub: 'alice', role: 'support', scopes: ['c2c:read', 'c2c:amend'] },
    });
  });

  it.each([
    ['no header', async () => undefined],
    ['a non-bearer header', async () => `Basic ${Buffer.from('a:b').toString('base64')}`],
    [
      'alg none',
      async () =>
        `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', iss: issuer, aud: audience, exp: 9e9 })}.`,
    ],
    ['an expired token', async () => `Bearer ${await token({ exp: Math.floor(Date.now() / 1000) - 120 })}`],
    ['a future nbf', async () => `Bearer ${await token({ nbf: Math.floor(Date.now() / 1000) + 600 })}`],
    ['a wrong audience', async () => `Bearer ${await token({ aud: 'someone-else' })}`],
    ['a wrong issuer', async () => `Bearer ${await token({ iss: 'urn:evil' })}`],
    ['a wrong typ', async () => `Bearer ${await token({}, { typ: 'at+jwt' })}`],
    ['an unknown kid', async () => `Bearer ${await token({}, { kid: 'nope' })}`],
    [
      'a tampered payload',
      async () => {
        const [h, , s] = (await token()).split('.');
        return `Bearer ${h}.${b64({ sub: 'mallory', role: 'admin', iss: issuer, aud: audience, exp: 9e9 })}.${s}`;
      },
    ],
    ['another key', async () => `Bearer ${await token({}, {}, (await generateKeyPair('ES256')).privateKey)}`],
    [
      'HS256 signed with the public key as secret',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(await exportJWK(keys.publicKey)));
        return `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'k1' }).setIssuer(issuer).setAudience(audience).setSubject('alice').setExpirationTime('10m').sign(secret)}`;
      },
    ],
  ])('rejects %s as UNAUTHENTICATED', async (_label, header) => {
    const result = await authenticate(await header());
    expect(result).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });
  });

  it('refuses unsafe configurations', () => {
    const base = { issuer, audience, jwks: { keys: [] }, clockToleranceSeconds: 30 };
    expect(() => createAuthenticator({ ...base, algorithms: ['none'] })).toThrow(/refused/);
    expect(() => createAuthenticator({ ...base, algorithms: ['HS256'] })).toThrow(/refused/);
    expect(() => createAuthenticator({ ...base, algorithms: ['ES256'], clockToleranceSeconds: 300 })).toThrow(
      /60 seconds/,
    );
  });
});

describe('what a refused caller is told (issue 15: the first hour)', () => {
  const expired = async (): Promise<string> =>
    `Bearer ${await token({ exp: Math.floor(Date.now() / 1000) - 120 })}`;
  type Case = [string, () => Promise<string | undefined>, 'missing' | 'invalid', RegExp];
  it.each<Case>([
    [
      'no header',
      async () => undefined,
      'missing',
      /^no bearer token: send the header Authorization: Bearer <token>/,
    ],
    ['an empty header', async () => '  ', 'missing', /^no bearer token/],
    [
      'another scheme',
      async () => 'Basic YTpi',
      'missing',
      /uses the Basic scheme; this API takes only Authorization: Bearer/,
    ],
    [
      'a token without "Bearer"',
      async () => token(),
      'missing',
      /is the word Bearer missing before the token\?/,
    ],
    ['"Bearer" and nothing else', async () => 'Bearer', 'missing', /says Bearer but carries no token/],
    ['garbage after Bearer', async () => 'Bearer garbage', 'invalid', /the bearer token is not a JWT/],
    ['three parts that are not JSON', async () => 'Bearer aaa.bbb.ccc', 'invalid', /not a well-formed JWT/],
    [
      'another key',
      async () => `Bearer ${await token({}, {}, (await generateKeyPair('ES256')).privateKey)}`,
      'invalid',
      /signature does not match any signing key/,
    ],
    [
      'an unknown kid',
      async () => `Bearer ${await token({}, { kid: 'nope' })}`,
      'invalid',
      /signature does not match any signing key/,
    ],
    [
      'an expired token',
      expired,
      'invalid',
      /^the bearer token expired at \d{4}-\d\d-\d\dT.*get a new token/,
    ],
    [
      'a wrong audience',
      async () => `Bearer ${await token({ aud: 'someone-else' })}`,
      'invalid',
      /another audience: this API accepts tokens whose aud is c2c-supergraph/,
    ],
    [
      'a wrong issuer',
      async () => `Bearer ${await token({ iss: 'urn:evil' })}`,
      'invalid',
      /another issuer: this API accepts tokens whose iss is urn:test-issuer/,
    ],
    [
      'a future nbf',
      async () => `Bearer ${await token({ nbf: Math.floor(Date.now() / 1000) + 600 })}`,
      'invalid',
      /not valid yet/,
    ],
    ['a wrong typ', async () => `Bearer ${await token({}, { typ: 'at+jwt' })}`, 'invalid', /typ JWT/],
    [
      'alg none',
      async () =>
        `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'a', iss: issuer, aud: audience, exp: 9e9 })}.`,
      'invalid',
      /algorithm this API does not accept \(accepted: ES256\)/,
    ],
  ])('%s: a message that names the problem', async (_label, header, kind, message) => {
    const sent = await header();
    const result = await authenticate(sent);
    expect(result).toMatchObject({ ok: false, code: 'UNAUTHENTICATED', kind });
    if (result.ok) return;
    expect(result.message).toMatch(message);
    // Never the token itself, nor any part of it.
    for (const part of (sent ?? '')
      .replace(/^\S+\s+/, '')
      .split('.')
      .filter((p) => p.length > 8))
      expect(result.message).not.toContain(part);
  });

  it('gives each failure its own message', async () => {
    const headers = [
      undefined,
      'Basic YTpi',
      await token(),
      'Bearer garbage',
      `Bearer ${await token({}, { kid: 'nope' })}`,
      await expired(),
      `Bearer ${await token({ aud: 'x' })}`,
      `Bearer ${await token({ iss: 'x' })}`,
    ];
    const messages = await Promise.all(
      headers.map(async (h) => {
        const r = await authenticate(h);
        return r.ok ? 'ok' : r.message;
      }),
    );
    expect(new Set(messages).size).toBe(headers.length);
  });

  it('appends where a development token comes from when the gateway says so', async () => {
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256' };
    const dev = createAuthenticator({
      issuer,
      audience,
      jwks: { keys: [jwk] },
      algorithms: ['ES256'],
      clockToleranceSeconds: 30,
      tokenHint: 'run npm run token here',
    });
    expect(await dev(undefined)).toMatchObject({ message: /\(run npm run token here\)$/ });
    const foreign = `Bearer ${await token({}, {}, (await generateKeyPair('ES256')).privateKey)}`;
    expect(await dev(foreign)).toMatchObject({ message: /another key \(run npm run token here\)$/ });
  });

  it('parses the header case-insensitively and never names a lone word as a scheme', () => {
    expect(parseAuthorization('bearer a.b.c')).toEqual({ ok: true, token: 'a.b.c' });
    const lone = parseAuthorization('sk_live_secret');
    expect(lone).toMatchObject({ ok: false, kind: 'missing' });
    expect(JSON.stringify(lone)).not.toContain('sk_live_secret');
  });

  it('says www-authenticate as RFC 6750 wants: no error code without a token, invalid_token, insufficient_scope', () => {
    expect(wwwAuthenticate({ kind: 'missing', message: 'no bearer token' })).toBe('Bearer realm="c2c"');
    expect(wwwAuthenticate({ kind: 'invalid', message: 'the bearer token expired' })).toBe(
      'Bearer realm="c2c", error="invalid_token", error_description="the bearer token expired"',
    );
    expect(
      wwwAuthenticate({
        kind: 'insufficient_scope',
        message: 'Query.x requires c2c:finance',
        scope: 'c2c:finance',
      }),
    ).toBe(
      'Bearer realm="c2c", error="insufficient_scope", error_description="Query.x requires c2c:finance", scope="c2c:finance"',
    );
    // A quoted-string stays one: no quote, backslash or non-ASCII character gets through.
    expect(wwwAuthenticate({ kind: 'invalid', message: 'a "quoted" \\ é' })).toBe(
      'Bearer realm="c2c", error="invalid_token", error_description="a ?quoted? ? ?"',
    );
  });
});
