import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NonceCache, ROLE_SCOPES, signRequest, verifyRequest } from '@c2c/platform/auth';
import { describe, expect, it } from 'vitest';
import { subgraphsOf } from '@c2c/schema/subgraphs';
import {
  BASELINE_IDENTITY,
  BENCH_RATE_LIMIT,
  benchSecrets,
  SECRETS_ENV,
  secretsEnv,
  secretsFromEnv,
  SUBGRAPH_NAMES,
  withoutSecurityPurpose,
} from '../security.ts';

describe('bench subgraph secrets', () => {
  it('are made once per run, one per subgraph, and reach a child intact', () => {
    const secrets = benchSecrets();
    expect(benchSecrets()).toBe(secrets);
    const names = subgraphsOf().map((s) => s.name);
    expect(names.length).toBeGreaterThan(0);
    expect(Object.keys(secrets).sort()).toEqual([...names].sort());
    for (const secret of Object.values(secrets)) expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(Object.values(secrets)).size).toBe(names.length);
    expect(secretsFromEnv(secretsEnv())).toEqual(secrets);
  });

  it('refuses a missing or short secret', () => {
    expect(() => secretsFromEnv({})).toThrow(SECRETS_ENV);
    const short = JSON.stringify({ ...benchSecrets(), finance: 'short' });
    expect(() => secretsFromEnv({ [SECRETS_ENV]: short })).toThrow(/finance/);
  });

  it("signs the baselines' requests so that a subgraph accepts them as admin", () => {
    const secret = benchSecrets()[SUBGRAPH_NAMES[0]!]!;
    const body = '{"query":"{ _service { sdl } }"}';
    const headers = signRequest(secret, { method: 'POST', body, identity: BASELINE_IDENTITY });
    const verdict = verifyRequest(secret, { method: 'POST', body, headers }, new NonceCache());
    expect(verdict).toEqual({
      ok: true,
      identity: {
        sub: 'bench',
        role: 'admin',
        scopes: [...ROLE_SCOPES.admin],
      },
    });
  });
});

describe('withoutSecurityPurpose', () => {
  it("drops only the requiresScopes link's SECURITY purpose from the supergraph", () => {
    const sdl = readFileSync(join(import.meta.dirname, '..', '..', 'schema', 'supergraph.graphql'), 'utf8');
    expect(sdl).toContain('requiresScopes/v0.1", for: SECURITY)');
    const edited = withoutSecurityPurpose(sdl);
    expect(edited).not.toContain('for: SECURITY');
    expect(edited).toContain('@link(url: "https://specs.apollo.dev/requiresScopes/v0.1")');
    expect(edited).toContain('@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)');
    expect(edited.length).toBe(sdl.length - ', for: SECURITY'.length);
  });
});

describe('the bench rate limit', () => {
  it('covers every request at the cost ceiling at 10,000 requests per second', () => {
    expect(BENCH_RATE_LIMIT.burst).toBeGreaterThanOrEqual(50_000 * 10_000);
    expect(BENCH_RATE_LIMIT.costPerMinute).toBeGreaterThanOrEqual(50_000 * 10_000 * 60);
  });
});
