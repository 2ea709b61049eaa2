import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_AUDIENCE, DEV_ISSUER } from '@c2c/platform/auth';
import { silentLogger } from '@c2c/platform/core';
import { closeServer, listen } from '@c2c/platform/graphql';
import { buildGateway, type BuiltGateway } from '../src/index.ts';

// What a caller is told when the gateway refuses a request, over real HTTP: the gateway alone (every
// refusal here happens before a subgraph is asked, so none runs; their URLs lead nowhere).
const ROOT = join(import.meta.dirname, '..', '..');
let gateway: BuiltGateway;
let url = '';
let keys: Awaited<ReturnType<typeof generateKeyPair>>;

async function jwt(claims: JWTPayload = {}, key = keys.privateKey): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    role: 'portal',
    scope: 'c2c:read',
    sub: 'first-hour',
    iss: DEV_ISSUER,
    aud: DEV_AUDIENCE,
    iat: now,
    exp: now + 600,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'k1' })
    .sign(key);
}

async function post(body: unknown, authorization?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const json = JSON.parse(text) as { errors?: { message: string; extensions?: Record<string, unknown> }[] };
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    text,
    message: json.errors?.[0]?.message ?? '',
    code: json.errors?.[0]?.extensions?.code,
  };
}

beforeAll(async () => {
  keys = await generateKeyPair('ES256', { extractable: true });
  const nowhere = 'http://127.0.0.1:9/graphql';
  const secret = 's'.repeat(32);
  gateway = await buildGateway(
    {
      port: 0,
      host: '127.0.0.1',
      supergraphPath: join(ROOT, 'schema', 'supergraph.graphql'),
      subgraphUrls: { customer: nowhere, subscription: nowhere, finance: nowhere },
      subgraphSecrets: { customer: secret, subscription: secret, finance: secret },
      subgraphTimeoutMs: 1000,
      subgraphMutationTimeoutMs: 1000,
      production: false,
      safelistMode: 'audit',
      operationsDir: join(ROOT, 'schema', 'operations'),
      logLevel: 'silent',
      auth: {
        issuer: DEV_ISSUER,
        audience: DEV_AUDIENCE,
        jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256' }] },
        algorithms: ['ES256'],
        clockToleranceSeconds: 30,
        tokenHint: 'npm run token in the stack folder',
      },
      dataDir: '',
      corsOrigins: [],
      maxBodyBytes: 1_000_000,
      rateLimit: { costPerMinute: 600_000, burst: 100_000 },
      reconcileIntervalSeconds: 0,
      entityCache: { enabled: false, maxBytes: 1_000_000, maxAgeSeconds: 300 },
    },
    silentLogger(),
  );
  url = (await listen(gateway.server, 0, '127.0.0.1')).url;
});

afterAll(async () => {
  await closeServer(gateway.server);
  await gateway.apollo.stop();
  gateway.agent.destroy();
});

const query = { query: '{ __typename }' };

describe('401: what was wrong with the token, and www-authenticate as RFC 6750 says', () => {
  it('no token: a challenge with the realm and no error attribute', async () => {
    const answer = await post(query);
    expect(answer.status).toBe(401);
    expect(answer.code).toBe('UNAUTHENTICATED');
    expect(answer.challenge).toBe('Bearer realm="c2c"');
    expect(answer.message).toMatch(/^no bearer token: send the header Authorization: Bearer <token>/);
    expect(answer.message).toContain('npm run token in the stack folder');
  });

  it('a header without "Bearer": says so, still without an error attribute', async () => {
    const token = await jwt();
    const bare = await post(query, token);
    expect(bare.status).toBe(401);
    expect(bare.challenge).toBe('Bearer realm="c2c"');
    expect(bare.message).toMatch(/word Bearer missing/);
    expect(bare.text).not.toContain(token.split('.')[2]);
    const basic = await post(query, 'Basic dXNlcjpwYXNz');
    expect(basic.challenge).toBe('Bearer realm="c2c"');
    expect(basic.message).toMatch(/uses the Basic scheme/);
    expect(basic.text).not.toContain('dXNlcjpwYXNz');
  });

  it.each([
    ['garbage', async () => 'Bearer garbage', /the bearer token is not a JWT/],
    [
      'another key',
      async () => `Bearer ${await jwt({}, (await generateKeyPair('ES256')).privateKey)}`,
      /signature does not match any signing key.*npm run token in the stack folder/,
    ],
    [
      'an expired token',
      async () => `Bearer ${await jwt({ exp: Math.floor(Date.now() / 1000) - 3600 })}`,
      /^the bearer token expired at /,
    ],
    [
      'a wrong audience',
      async () => `Bearer ${await jwt({ aud: 'someone-else' })}`,
      /another audience: this API accepts tokens whose aud is c2c-supergraph/,
    ],
    [
      'a wrong issuer',
      async () => `Bearer ${await jwt({ iss: 'https://evil.example' })}`,
      /another issuer: this API accepts tokens whose iss is urn:c2c:dev-issuer/,
    ],
  ])('%s: invalid_token with the same description', async (_label, header, message) => {
    const authorization = await header();
    const answer = await post(query, authorization);
    expect(answer.status).toBe(401);
    expect(answer.code).toBe('UNAUTHENTICATED');
    expect(answer.message).toMatch(message);
    expect(answer.challenge).toBe(
      `Bearer realm="c2c", error="invalid_token", error_description="${answer.message}"`,
    );
    const signature = authorization.split('.')[2];
    if (signature) expect(answer.text + (answer.challenge ?? '')).not.toContain(signature);
  });
});

describe('403: the scope that is missing', () => {
  it('a role without the scope: insufficient_scope, naming the field, the scope and the role', async () => {
    const answer = await post({ query: '{ erpDeadLetters { id } }' }, `Bearer ${await jwt()}`);
    expect(answer.status).toBe(403);
    expect(answer.code).toBe('FORBIDDEN');
    expect(answer.message).toMatch(
      /^Query\.erpDeadLetters requires c2c:finance, which the role portal does not have/,
    );
    expect(answer.challenge).toMatch(
      /^Bearer realm="c2c", error="insufficient_scope", error_description="Query\.erpDeadLetters requires c2c:finance.*", scope="c2c:finance"$/,
    );
  });

  it('a token with no role and no scopes: says the token carries none', async () => {
    const answer = await post(
      { query: '{ customers(first: 1) { nodes { id } } }' },
      `Bearer ${await jwt({ role: undefined, scope: undefined })}`,
    );
    expect(answer.status).toBe(403);
    expect(answer.message).toMatch(/requires c2c:read: the bearer token carries no role and no scopes/);
    expect(answer.challenge).toMatch(/error="insufficient_scope".*scope="c2c:read"$/);
  });
});

describe('400: queries refused before any subgraph is asked', () => {
  it('first: 100000 is too expensive, with its cost, the limit and a smaller first; no "Syntax Error"', async () => {
    const answer = await post(
      { query: '{ customers(first: 100000) { nodes { id } } }' },
      `Bearer ${await jwt()}`,
    );
    expect(answer.status).toBe(400);
    expect(answer.message).not.toMatch(/Syntax Error/);
    expect(answer.message).toMatch(
      /^the query is too expensive: its estimated cost is \d+ and the limit is 5000\. Ask for less: a smaller first/,
    );
  });

  it('a string for an Int! variable is a type error, as GraphQL says, not a range error', async () => {
    const answer = await post(
      { query: 'query Page($n: Int!) { customers(first: $n) { nodes { id } } }', variables: { n: 'abc' } },
      `Bearer ${await jwt()}`,
    );
    expect(answer.status).toBe(400);
    expect(answer.code).toBe('BAD_USER_INPUT');
    expect(answer.message).toMatch(
      /^Variable "\$n" got invalid value "abc"; Int cannot represent non-integer value/,
    );
    expect(answer.message).not.toMatch(/between 1 and/);
    // A number out of range is still the range error.
    const zero = await post(
      { query: 'query Page($n: Int!) { customers(first: $n) { nodes { id } } }', variables: { n: 0 } },
      `Bearer ${await jwt()}`,
    );
    expect(zero.message).toMatch(/must be between 1 and 100, got 0/);
  });
});
