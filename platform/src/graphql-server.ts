import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ApolloServer, HeaderMap, type BaseContext } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { DomainError } from './errors.ts';

/** Headers the gateway sends to subgraphs (replaced by a signed identity in the security issue). */
export const CALLER_HEADER = 'x-c2c-caller';
export const CORRELATION_HEADER = 'x-correlation-id';

/** What every subgraph resolver can rely on in its context. */
export interface RequestContext extends BaseContext {
  caller: string;
  correlationId: string;
  log: Logger;
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Reads the caller and correlation id of a request, generating a correlation id when absent or malformed. */
export function requestIdentity(headers: IncomingMessage['headers']): {
  caller: string;
  correlationId: string;
} {
  const caller = headerValue(headers[CALLER_HEADER]) ?? 'anonymous';
  const given = headerValue(headers[CORRELATION_HEADER]);
  return {
    caller: caller.slice(0, 200),
    correlationId: given && CORRELATION_ID.test(given) ? given : randomUUID(),
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Maps errors once at the edge: domain errors keep their code and message; anything unexpected is
 * logged and reaches the client as INTERNAL_SERVER_ERROR without its message or stack.
 */
export function formatErrorFor(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // graphql is loaded both as ESM and CJS here (Apollo's packages differ), so no instanceof GraphQLError.
    const original = unwrap(error);
    if (original instanceof DomainError) {
      return {
        message: original.message,
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: original.code, ...(original.field ? { field: original.field } : {}) },
      };
    }
    const code = formatted.extensions?.code;
    if (original && original !== error && (code === undefined || code === 'INTERNAL_SERVER_ERROR')) {
      log.error({ err: original, path: formatted.path }, 'unexpected resolver error');
      return {
        message: 'Internal server error',
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      };
    }
    const { stacktrace: _ignored, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
    return { ...formatted, extensions };
  };
}

function unwrap(error: unknown): unknown {
  let current = error;
  while (current && typeof current === 'object' && 'originalError' in current && current.originalError) {
    current = current.originalError;
  }
  return current;
}

export interface SubgraphServerOptions {
  typeDefs: string;
  resolvers: GraphQLResolverMap<unknown>;
  log: Logger;
}

/** An Apollo Server for a federated subgraph, SDL-first. */
export function buildSubgraphServer<C extends RequestContext>(
  options: SubgraphServerOptions,
): ApolloServer<C> {
  return new ApolloServer<C>({
    schema: buildSubgraphSchema({ typeDefs: parse(options.typeDefs), resolvers: options.resolvers }),
    // Shutdown is ours (entry points handle SIGTERM/SIGINT); Apollo's own handler would re-raise the signal.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    formatError: formatErrorFor(options.log),
    // Inline traces are Apollo Studio's; we do not report to it, so do not pay for them.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled()],
  });
}

export interface GraphQLHttpOptions<C extends BaseContext> {
  apollo: ApolloServer<C>;
  context: (request: IncomingMessage) => Promise<C>;
  /** Readiness: true when this process can serve (e.g. its dependencies answer). */
  ready?: () => Promise<boolean>;
  maxBodyBytes?: number;
  log: Logger;
}

/**
 * A plain node:http server: POST/GET /graphql through Apollo, GET /healthz (alive) and GET /readyz.
 * The caller must have awaited `apollo.start()`.
 */
export function createGraphQLHttpServer<C extends BaseContext>(options: GraphQLHttpOptions<C>): Server {
  const maxBody = options.maxBodyBytes ?? 1_000_000;
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.log.error({ err: error }, 'request failed');
      if (!res.headersSent) send(res, 500, { errors: [{ message: 'Internal server error' }] });
      else res.end();
    });
  });
  server.keepAliveTimeout = 65_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const ok = options.ready ? await options.ready().catch(() => false) : true;
      return send(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready' });
    }
    if (url.pathname !== '/graphql') return send(res, 404, { error: 'not found' });
    if (req.method !== 'POST' && req.method !== 'GET') {
      res.setHeader('allow', 'GET, POST');
      return send(res, 405, { error: 'method not allowed' });
    }
    let body: unknown = undefined;
    if (req.method === 'POST') {
      const raw = await readBody(req, maxBody);
      if (raw === null)
        return send(res, 413, { errors: [{ message: `request body exceeds ${maxBody} bytes` }] });
      try {
        body = raw.length ? JSON.parse(raw) : {};
      } catch {
        return send(res, 400, {
          errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
        });
      }
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method, headers, search: url.search, body },
      context: () => options.context(req),
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }
  return server;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Listens on `port` (0 for any) and resolves with the URL of /graphql. */
export function listen(
  server: Server,
  port: number,
  host = '127.0.0.1',
): Promise<{ port: number; url: string }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({ port: address.port, url: `http://${host}:${address.port}/graphql` });
    });
  });
}

/** Closes a server, ending idle keep-alive connections. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
