import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_AUDIENCE, DEV_ISSUER, loadDevIssuerKey } from '@c2c/platform/auth';
import { silentLogger } from '@c2c/platform/core';
import { type Database } from '@c2c/platform/db';
import { listen } from '@c2c/platform/graphql';
import { fixedClock, openTestDatabase, useToken } from '@c2c/platform/testing';
import { startStack, type Stack } from '@c2c/apps/stack';

// The stack of the security tests: the gateway in its production configuration (NODE_ENV=production
// behaviour: introspection off, mutations only from the safelist, a CORS allowlist, tight timeouts)
// with tokens verified against a remote JWKS served by a counting HTTP server.

export const ALLOWED_ORIGIN = 'https://portal.example.com';
export const QUERY_TIMEOUT_MS = 1500;
export const RATE = { costPerMinute: 60_000, burst: 20_000 };

export interface SecurityStack {
  stack: Stack;
  database: Database;
  dataDir: string;
  /** How often the gateway fetched the JWKS. */
  jwksFetches(): number;
  /** GraphQL requests the subgraphs received since the last reset. */
  subgraphRequests(): number;
  resetSubgraphRequests(): void;
  close(): Promise<void>;
}

export async function startSecurityStack(): Promise<SecurityStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'c2c-security-'));
  const key = await loadDevIssuerKey(dataDir);
  let fetches = 0;
  const jwks = createServer((req, res) => {
    fetches += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [key.publicJwk] }));
  });
  const jwksAddress = await listen(jwks, 0);
  const database = await openTestDatabase();
  const stack = await startStack({
    dataDir,
    database,
    ports: { gateway: 0, customer: 0, subscription: 0, finance: 0 },
    log: silentLogger(),
    clock: fixedClock('2026-03-10T12:00:00Z'),
    gateway: {
      production: true,
      safelistMode: 'enforce-mutations',
      corsOrigins: [ALLOWED_ORIGIN],
      subgraphTimeoutMs: QUERY_TIMEOUT_MS,
      rateLimit: RATE,
      auth: {
        issuer: DEV_ISSUER,
        audience: DEV_AUDIENCE,
        jwksUrl: jwksAddress.url.replace(/\/graphql$/, '/jwks.json'),
        algorithms: ['ES256'],
        clockToleranceSeconds: 30,
      },
    },
  });
  useToken(stack.gatewayUrl, await stack.token({ role: 'admin', subject: 'setup' }));
  let requests = 0;
  const count = (req: IncomingMessage) => {
    if (req.url?.startsWith('/graphql')) requests += 1;
  };
  for (const subgraph of stack.subgraphs) subgraph.server.on('request', count);
  return {
    stack,
    database,
    dataDir,
    jwksFetches: () => fetches,
    subgraphRequests: () => requests,
    resetSubgraphRequests: () => {
      requests = 0;
    },
    close: async () => {
      await stack.stop();
      await database.close();
      await new Promise<void>((resolve) => jwks.close(() => resolve()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: {
    data?: Record<string, any> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
  };
}

/** One raw HTTP request; the body is sent as given (string) or as JSON. */
export async function http(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown; token?: string | null } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (typeof options.body === 'string') body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, { method: options.method ?? (body ? 'POST' : 'GET'), headers, body });
  const text = await response.text();
  let json: HttpAnswer['json'] = {};
  try {
    json = JSON.parse(text) as HttpAnswer['json'];
  } catch {
    // not JSON: the test looks at text
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Serves `handler` on a port (where a stopped subgraph was): a stand-in for a broken system. */
export async function impersonate(
  port: number,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server> {
  const server = createServer(handler);
  await listen(server, port);
  return server;
}

export function closeQuietly(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
