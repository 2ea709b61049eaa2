import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../src/auth.ts';

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
