import { describe, expect, it } from 'vitest';
import { NonceCache, SIGNATURE_HEADERS, signRequest, verifyRequest } from '../src/request-signing.ts';

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
