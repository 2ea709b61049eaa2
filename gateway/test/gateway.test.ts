import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatewayConfigFromEnv } from '../src/config.ts';
import { sanitizeGatewayError } from '../src/errors.ts';
import { supergraphRoutingUrls } from '../src/supergraph.ts';

describe('gateway error hygiene', () => {
  it('hides the text of a subgraph error that carries no code of ours (a SQL error, a file path)', () => {
    const out = sanitizeGatewayError({
      message: 'relation "finance.secret" does not exist at /srv/app/db.ts:10',
      extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'finance', stacktrace: ['x'] },
    });
    expect(out).toEqual({
      message: 'the ERP system (subgraph finance) failed to answer',
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'finance', system: 'ERP' },
    });
  });

  it('replaces a connection failure that names an internal URL by the subgraph and a stable code', () => {
    const out = sanitizeGatewayError({
      message: 'request to http://10.0.0.7:4003/graphql failed, reason: connect ECONNREFUSED 10.0.0.7:4003',
      extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'finance', stacktrace: ['at x'] },
    });
    expect(out).toEqual({
      message: 'the ERP system (subgraph finance) is unavailable',
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'finance', system: 'ERP' },
    });
  });

  it("drops a subgraph HTTP failure's response (URL, status text, body) and keeps only public extensions", () => {
    const out = sanitizeGatewayError({
      message: '500: Internal Server Error',
      extensions: {
        code: 'INTERNAL_SERVER_ERROR',
        serviceName: 'subscription',
        response: { url: 'http://10.1.2.3:4002/graphql', status: 500, body: 'select * from invoice' },
        exception: { stacktrace: ['at db.query'] },
      },
    });
    expect(out).toEqual({
      message: 'the billing system (subgraph subscription) is unavailable',
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'subscription', system: 'billing' },
    });
  });

  it('keeps business errors as they are, minus stack traces', () => {
    const out = sanitizeGatewayError({
      message: 'first must be between 1 and 100, got 0',
      extensions: { code: 'INVALID_PAGE_SIZE', stacktrace: ['x'] },
    });
    expect(out).toEqual({
      message: 'first must be between 1 and 100, got 0',
      extensions: { code: 'INVALID_PAGE_SIZE' },
    });
  });
});

const SECRETS = {
  CUSTOMER_SUBGRAPH_SECRET: 'c'.repeat(32),
  SUBSCRIPTION_SUBGRAPH_SECRET: 's'.repeat(32),
  FINANCE_SUBGRAPH_SECRET: 'f'.repeat(32),
};

describe('gateway configuration', () => {
  it('reads the routing URLs composed into the supergraph', () => {
    const sdl = readFileSync(join(import.meta.dirname, '..', '..', 'schema', 'supergraph.graphql'), 'utf8');
    expect(supergraphRoutingUrls(sdl)).toEqual({
      customer: 'http://127.0.0.1:4001/graphql',
      finance: 'http://127.0.0.1:4003/graphql',
      subscription: 'http://127.0.0.1:4002/graphql',
    });
  });

  it('fails fast with every bad variable named', () => {
    expect(() => gatewayConfigFromEnv({ PORT: 'eighty', FINANCE_URL: 'not a url' })).toThrow(
      /PORT[\s\S]*FINANCE_URL|FINANCE_URL[\s\S]*PORT/,
    );
    expect(gatewayConfigFromEnv({ FINANCE_URL: 'http://erp:8080/graphql', ...SECRETS }).subgraphUrls).toEqual(
      { finance: 'http://erp:8080/graphql' },
    );
  });

  it('needs a signing secret per subgraph, always', () => {
    expect(() => gatewayConfigFromEnv({})).toThrow(
      /CUSTOMER_SUBGRAPH_SECRET is required[\s\S]*FINANCE_SUBGRAPH_SECRET/,
    );
    expect(() => gatewayConfigFromEnv({ ...SECRETS, FINANCE_SUBGRAPH_SECRET: 'short' })).toThrow(
      /at least 32/,
    );
  });

  it('refuses to start in production without an issuer, an audience and a JWKS URL', () => {
    expect(() => gatewayConfigFromEnv({ NODE_ENV: 'production', ...SECRETS })).toThrow(
      /AUTH_ISSUER is required[\s\S]*AUTH_AUDIENCE is required[\s\S]*AUTH_JWKS_URL is required/,
    );
    const config = gatewayConfigFromEnv({
      NODE_ENV: 'production',
      ...SECRETS,
      AUTH_ISSUER: 'https://login.example.com/',
      AUTH_AUDIENCE: 'c2c',
      AUTH_JWKS_URL: 'https://login.example.com/.well-known/jwks.json',
    });
    expect(config.production).toBe(true);
    expect(config.safelistMode).toBe('enforce-mutations');
  });
});
