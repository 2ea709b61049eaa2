import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { BREAK, GraphQLError, parse, visit, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { withAuditScope } from './audit.ts';
import { protectResolvers } from '../auth/authorization.ts';
import {
  databaseUnavailable,
  isConnectionLost,
  isStorageUnavailable,
  noteStorageFailure,
  storageUnavailable,
} from '../core/connection-loss.ts';
import { DomainError } from '../core/errors.ts';
import { isStorableText } from '../core/strings.ts';
import { graphqlTracingPlugin, traceRequest, type RequestTracing } from '../observability/tracing.ts';

/** The correlation id of a business transaction, carried from client to gateway to subgraphs and events. */
export const CORRELATION_HEADER = 'x-correlation-id';
/** Every response carries this; unexpected errors quote it so a support ticket finds the log line. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What every subgraph resolver can rely on in its context. */
import type { RequestContext } from './request-context.ts';

export type { RequestContext };

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's correlation id when well-formed, else a new one. */
export function correlationIdOf(headers: IncomingMessage['headers']): string {
  const given = headerValue(headers[CORRELATION_HEADER]);
  return given && CORRELATION_ID.test(given) ? given : randomUUID();
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** True for an error the client must not see the details of (not a domain error, no code of its own). */
function isUnexpected(formattedCode: unknown, error: unknown): boolean {
  const original = unwrap(error);
  if (original instanceof DomainError) return false;
  return (
    Boolean(original && original !== error) &&
    (formattedCode === undefined || formattedCode === 'INTERNAL_SERVER_ERROR')
  );
}

/**
 * Maps errors once at the edge: domain errors keep their code and message; anything unexpected
 * reaches the client as INTERNAL_SERVER_ERROR without its message or stack (the request-id plugin
 * logs it and stamps the request id on it).
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  // graphql is loaded both as ESM and CJS here (Apollo's packages differ), so no instanceof GraphQLError.
  const original = unwrap(error);
  if (original instanceof DomainError) {
    return {
      message: original.message,
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: original.code, ...(original.field ? { field: original.field } : {}) },
    };
  }
  if (isStorageUnavailable(original)) {
    noteStorageFailure();
    const refused = storageUnavailable();
    return {
      message: refused.message,
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: refused.code, retryAfterSeconds: 15 },
    };
  }
  if (isConnectionLost(original)) {
    const lost = databaseUnavailable();
    return {
      message: lost.message,
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: lost.code, retryAfterSeconds: 1 },
    };
  }
  if (isUnexpected(formatted.extensions?.code, error)) {
    return {
      message: 'Internal server error',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  }
  const { stacktrace: _ignored, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
  return { ...formatted, message: withoutSuggestions(formatted.message), extensions };
}

/**
 * A message without graphql-js's hints ("Did you mean the enum value …?", "… field …?", "… type
 * …?"): they describe the schema to whoever probes it. Apollo's hideSchemaDetailsFromClientErrors
 * covers validation errors only, not a variable's coercion error naming enum values.
 */
export function withoutSuggestions(message: string): string {
  return message.replace(/\s*Did you mean [\s\S]*?\?(?=\s|$)/g, '');
}

/**
 * Logs unexpected errors with the request id, and puts that id on every INTERNAL_SERVER_ERROR the
 * client gets, so a support ticket leads to the log line.
 */
export function requestIdPlugin<C extends { requestId: string; log: Logger }>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            if (isUnexpected(error.extensions?.code, error))
              contextValue.log.error(
                { err: unwrap(error), path: error.path, requestId: contextValue.requestId },
                'unexpected resolver error',
              );
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          for (const error of response.body.singleResult.errors ?? []) {
            if (error.extensions?.code === 'INTERNAL_SERVER_ERROR')
              (error as { extensions: Record<string, unknown> }).extensions = {
                ...error.extensions,
                requestId: contextValue.requestId,
              };
          }
        },
      };
    },
  };
}

function unwrap(error: unknown): unknown {
  let current = error;
  while (current && typeof current === 'object' && 'originalError' in current && current.originalError) {
    current = current.originalError;
  }
  return current;
}

export interface SubgraphServerOptions<C extends RequestContext> {
  typeDefs: string;
  resolvers: GraphQLResolverMap<unknown>;
  /** More plugins (the audit log). */
  plugins?: ApolloServerPlugin<C>[];
}

/** An Apollo Server for a federated subgraph, SDL-first. */
export function buildSubgraphServer<C extends RequestContext>(
  options: SubgraphServerOptions<C>,
): ApolloServer<C> {
  const typeDefs = parse(options.typeDefs);
  return new ApolloServer<C>({
    // Every field and __resolveReference checks the SDL's @authenticated/@requiresScopes again.
    schema: buildSubgraphSchema({ typeDefs, resolvers: protectResolvers(options.resolvers, typeDefs) }),
    // Shutdown is ours (entry points handle SIGTERM/SIGINT); Apollo's own handler would re-raise the signal.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    formatError,
    // Only the gateway calls a subgraph (signed); it never needs schema hints in errors.
    hideSchemaDetailsFromClientErrors: true,
    // Inline traces are Apollo Studio's; we do not report to it, so do not pay for them.
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      requestIdPlugin<C>(),
      graphqlTracingPlugin<C>(),
      ...(options.plugins ?? []),
    ],
  });
}

/** A request refused before GraphQL runs. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

export interface GraphQLHttpOptions<C extends BaseContext, A> {
  apollo: ApolloServer<C>;
  /**
   * Runs before Apollo with the raw body: authentication, request signatures. Returns what the
   * context needs, or a refusal that becomes the HTTP response.
   */
  admit: (
    request: IncomingMessage,
    body: string,
  ) => Promise<{ ok: true; value: A } | ({ ok: false } & Refusal)>;
  context: (request: IncomingMessage, admitted: A, requestId: string) => Promise<C>;
  /** Checks on the GraphQL request before Apollo parses it (e.g. a token limit); a refusal ends it. */
  inspect?: (graphqlRequest: { query?: unknown }) => Refusal | null;
  /**
   * Readiness: true when this process can serve (e.g. its dependencies answer); or an answer with
   * its own body (`{ ready: false, body: { status: 'seeding', … } }`), sent as JSON.
   */
  ready?: () => Promise<boolean | { ready: boolean; body: Record<string, unknown> }>;
  /** Methods /graphql accepts: the gateway takes GET (queries only) and POST; subgraphs only POST. */
  methods?: ('GET' | 'POST')[];
  /**
   * Refuse NUL and unpaired surrogates anywhere in a JSON body with a 400 (the gateway, the public
   * edge). Subgraphs leave them to their domain validation, which answers with userErrors.
   */
  refuseUnstorableText?: boolean;
  /** Largest request body; larger ones get 413 without being read to the end. */
  maxBodyBytes?: number;
  /** Browser origins allowed to call cross-origin (CORS); none when empty. */
  corsOrigins?: string[];
  /** Extra routes served before /graphql (e.g. /metrics, /ops). Return true when handled. */
  routes?: (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<boolean> | boolean;
  /** How /graphql requests are traced (a span each when tracing is set up; see tracing.ts). */
  tracing?: RequestTracing;
  log: Logger;
}

/** Apollo's CSRF rule, checked before authentication so a cross-site form gets the CSRF answer. */
const SIMPLE_CONTENT_TYPES = new Set([
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
]);
function csrfSafe(req: IncomingMessage): boolean {
  if (
    headerValue(req.headers['x-apollo-operation-name']) ||
    headerValue(req.headers['apollo-require-preflight'])
  )
    return true;
  const contentType = headerValue(req.headers['content-type']);
  if (!contentType) return false;
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return !SIMPLE_CONTENT_TYPES.has(mediaType);
}

/** Deepest nesting of a parsed JSON value, without recursion. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(current) ? current : Object.values(current))
      stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Bounds on a JSON request body, checked before anything else looks at its values. */
export const INPUT_LIMITS = {
  /** Nesting of the body (its variables included). */
  maxDepth: 32,
  /** Variables of one request: no registered operation declares more than a few. */
  maxVariables: 64,
  /** JSON values (objects, arrays, scalars) in one body; lists are capped at 250 items later, with their own message. */
  maxValues: 20_000,
} as const;

export const UNSTORABLE_TEXT_MESSAGE =
  'string values must be valid Unicode text without NUL characters (U+0000) or unpaired surrogates';

/**
 * Checks a parsed JSON body in one pass that stops at the first problem, so a hostile body costs
 * at most `maxValues` steps: too many variables (counted first, without walking), too deep, too many
 * values, or a string (value or key) that is not storable text. Returns why it is refused, or null.
 */
export function refuseJsonInput(
  body: unknown,
  limits = INPUT_LIMITS,
  options: { text: boolean } = { text: true },
): string | null {
  for (const request of Array.isArray(body) ? body : [body]) {
    const variables = (request as { variables?: unknown } | null)?.variables;
    if (variables && typeof variables === 'object') {
      let count = 0;
      for (const _ in variables) {
        if (++count > limits.maxVariables) return `too many variables: at most ${limits.maxVariables}`;
      }
    }
  }
  let values = 0;
  const stack: [unknown, number][] = [[body, 1]];
  while (stack.length) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (++values > limits.maxValues) return `request body has too many values: at most ${limits.maxValues}`;
    if (typeof current === 'string') {
      if (options.text && !isStorableText(current)) return UNSTORABLE_TEXT_MESSAGE;
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth > limits.maxDepth) return 'request body is nested too deeply';
    if (Array.isArray(current)) {
      for (const child of current) stack.push([child, depth + 1]);
      continue;
    }
    for (const key in current) {
      if (options.text && !isStorableText(key)) return UNSTORABLE_TEXT_MESSAGE;
      stack.push([(current as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return null;
}

/** JSON values in `value` (1 for a scalar), counted up to `limit`. */
export function countJsonValues(value: unknown, limit = INPUT_LIMITS.maxValues): number {
  let values = 0;
  const stack: unknown[] = [value];
  while (stack.length && values <= limit) {
    const current = stack.pop();
    values += 1;
    if (current !== null && typeof current === 'object')
      for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push(child);
  }
  return values;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Refuses what must never reach SQL, in a request Apollo has parsed: string literals of the
 * document and variable values (also those of a GET) that hold NUL or unpaired surrogates. A 400
 * with a clear message instead of a database error deep inside a resolver.
 */
export function storableTextPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          let bad = refuseJsonInput({ variables: request.variables ?? {} }) !== null;
          if (!bad) {
            visit(document, {
              StringValue(node) {
                if (!isStorableText(node.value)) {
                  bad = true;
                  return BREAK;
                }
                return undefined;
              },
            });
          }
          if (bad)
            throw new GraphQLError(UNSTORABLE_TEXT_MESSAGE, {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
        },
      };
    },
  };
}

/**
 * A plain node:http server: /graphql through Apollo (after CORS, body limit, CSRF and `admit`),
 * GET /healthz (alive) and GET /readyz. The caller must have awaited `apollo.start()`.
 */
export function createGraphQLHttpServer<C extends BaseContext, A>(options: GraphQLHttpOptions<C, A>): Server {
  const maxBody = options.maxBodyBytes ?? 1_000_000;
  const methods = options.methods ?? ['GET', 'POST'];
  const origins = new Set(options.corsOrigins ?? []);
  const server = createServer((req, res) => {
    const requestId = randomUUID();
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const tracing = req.url?.startsWith('/graphql') ? options.tracing : undefined;
    (tracing
      ? traceRequest(tracing, req, res, () => handle(req, res, requestId))
      : handle(req, res, requestId)
    ).catch((error: unknown) => {
      options.log.error({ err: error, requestId }, 'request failed');
      if (!res.headersSent)
        send(res, 500, {
          errors: [
            { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } },
          ],
        });
      else res.end();
    });
  });
  server.keepAliveTimeout = 65_000;

  function cors(req: IncomingMessage, res: ServerResponse): 'preflight' | 'refused' | 'ok' {
    const origin = headerValue(req.headers.origin);
    if (!origin) return 'ok';
    res.setHeader('vary', 'Origin');
    if (!origins.has(origin)) return req.method === 'OPTIONS' ? 'refused' : 'ok';
    res.setHeader('access-control-allow-origin', origin);
    if (req.method !== 'OPTIONS') return 'ok';
    res.setHeader('access-control-allow-methods', methods.join(', '));
    res.setHeader(
      'access-control-allow-headers',
      'authorization, content-type, apollo-require-preflight, x-apollo-operation-name, x-correlation-id',
    );
    res.setHeader('access-control-max-age', '600');
    return 'preflight';
  }

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const answer = options.ready ? await options.ready().catch(() => false) : true;
      const ok = typeof answer === 'boolean' ? answer : answer.ready;
      const body = typeof answer === 'boolean' ? { status: ok ? 'ready' : 'not ready' } : answer.body;
      return send(res, ok ? 200 : 503, body);
    }
    if (options.routes && (await options.routes(req, res, url))) return;
    if (url.pathname !== '/graphql') return send(res, 404, { error: 'not found' });
    const corsAnswer = cors(req, res);
    if (req.method === 'OPTIONS') {
      res.statusCode = corsAnswer === 'preflight' ? 204 : 403;
      res.end();
      return;
    }
    if (!methods.includes(req.method as 'GET' | 'POST')) {
      res.setHeader('allow', methods.join(', '));
      return refuse(res, { status: 405, code: 'METHOD_NOT_ALLOWED', message: `use ${methods.join(' or ')}` });
    }
    let raw: string | null = '';
    if (req.method === 'POST') {
      const read = await readBody(req, maxBody);
      if (read === TOO_LARGE) {
        res.setHeader('connection', 'close');
        return refuse(res, {
          status: 413,
          code: 'PAYLOAD_TOO_LARGE',
          message: `request body exceeds ${maxBody} bytes`,
        });
      }
      raw = read;
    }
    if (raw === null) {
      return refuse(res, { status: 400, code: 'BAD_REQUEST', message: 'request body is not valid UTF-8' });
    }
    if (!csrfSafe(req) && (req.method === 'POST' || url.search.length > 1)) {
      return refuse(res, {
        status: 400,
        code: 'BAD_REQUEST',
        message:
          'This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Send a Content-Type of application/json, or a non-empty x-apollo-operation-name or apollo-require-preflight header.',
      });
    }
    let body: unknown = undefined;
    if (req.method === 'POST') {
      const mediaType = (headerValue(req.headers['content-type']) ?? '').split(';')[0]?.trim().toLowerCase();
      if (mediaType === 'application/json' || mediaType?.endsWith('+json')) {
        try {
          body = raw.length ? JSON.parse(raw) : {};
        } catch {
          return refuse(res, { status: 400, code: 'BAD_REQUEST', message: 'request body is not valid JSON' });
        }
        const refusal = refuseJsonInput(body, INPUT_LIMITS, { text: options.refuseUnstorableText ?? false });
        if (refusal) return refuse(res, { status: 400, code: 'BAD_USER_INPUT', message: refusal });
      } else {
        body = raw;
      }
    }
    const admitted = await options.admit(req, raw);
    if (!admitted.ok) return refuse(res, admitted);
    if (options.inspect) {
      const query =
        req.method === 'GET' ? url.searchParams.get('query') : (body as { query?: unknown } | null)?.query;
      const refusal = Array.isArray(body) ? null : options.inspect({ query: query ?? undefined });
      if (refusal) return refuse(res, refusal);
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await withAuditScope(() =>
      options.apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method as string, headers, search: url.search, body },
        context: () => options.context(req, admitted.value, requestId),
      }),
    );
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

function refuse(res: ServerResponse, refusal: Refusal): void {
  for (const [name, value] of Object.entries(refusal.headers ?? {})) res.setHeader(name, value);
  send(res, refusal.status, { errors: [{ message: refusal.message, extensions: { code: refusal.code } }] });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

const TOO_LARGE = Symbol('too large');

/** The bytes as text, or null when they are not valid UTF-8 (rather than silently replaced by U+FFFD). */
function utf8(bytes: Buffer): string | null {
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Reads the body up to `max` bytes; beyond that it stops reading and resolves TOO_LARGE; null
 * when it is not valid UTF-8.
 */
function readBody(req: IncomingMessage, max: number): Promise<string | null | typeof TOO_LARGE> {
  const declared = Number(headerValue(req.headers['content-length']) ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    return Promise.resolve(TOO_LARGE);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        resolve(TOO_LARGE);
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(size > max ? TOO_LARGE : utf8(Buffer.concat(chunks))));
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
