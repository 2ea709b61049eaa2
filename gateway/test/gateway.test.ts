import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatewayConfigFromEnv } from '../src/config.ts';
import { sanitizeGatewayError, supergraphRoutingUrls } from '../src/gateway.ts';

describe('gateway error hygiene', () => {
  it('replaces a connection failure that names an internal URL by the subgraph and a stable code', () => {
    const out = sanitizeGatewayError({
      message: 'request to http://10.0.0.7:4003/graphql failed, reason: connect ECONNREFUSED 10.0.0.7:4003',
      extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'finance', stacktrace: ['at x'] },
    });
    expect(out).toEqual({
      message: 'subgraph finance is unavailable',
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'finance' },
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
    expect(gatewayConfigFromEnv({ FINANCE_URL: 'http://erp:8080/graphql' }).subgraphUrls).toEqual({
      finance: 'http://erp:8080/graphql',
    });
  });
});
