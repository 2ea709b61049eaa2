import type { GraphQLFormattedError } from 'graphql';
import { systemLabels } from '@c2c/schema/subgraphs';

/** The business system behind each subgraph, named in errors so support knows which part failed. */
export const SYSTEM_OF: Record<string, string> = systemLabels();

const URL_IN_TEXT = /\b(?:https?:\/\/|\d{1,3}(?:\.\d{1,3}){3}:\d+)\S*/;
/** Extension keys a client may see; everything else (response bodies, URLs, stack traces) is dropped. */
const PUBLIC_EXTENSIONS = new Set([
  'code',
  'serviceName',
  'system',
  'field',
  'requestId',
  'requires',
  'retryAfterSeconds',
]);
const TRANSPORT_FAILURE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket hang up|subgraph \w+ (failed|circuit)|^\d{3}: /i;

/**
 * Keeps subgraph failures explainable without leaking internals: no URLs, addresses, response
 * bodies or stack traces reach the client; the subgraph's name, its system and a stable code do.
 */
export function sanitizeGatewayError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const given = (formatted.extensions ?? {}) as Record<string, unknown>;
  const extensions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) if (PUBLIC_EXTENSIONS.has(key)) extensions[key] = value;
  const named = /subgraph (\w+) (?:failed|circuit)/.exec(formatted.message)?.[1];
  const serviceName = typeof given.serviceName === 'string' ? given.serviceName : (named ?? null);
  if (serviceName) extensions.serviceName = serviceName;
  if (serviceName && SYSTEM_OF[serviceName]) extensions.system = SYSTEM_OF[serviceName];
  let message = formatted.message;
  const status = (given.response as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // A subgraph refused what the gateway sent: a bad value the gateway did not catch, not an outage.
    return {
      ...formatted,
      message: 'a system refused the request as invalid',
      extensions: { ...extensions, code: status === 401 || status === 403 ? 'FORBIDDEN' : 'BAD_USER_INPUT' },
    };
  }
  const fromSubgraphHttp = given.response !== undefined;
  if (given.code === 'DOWNSTREAM_SERVICE_ERROR') {
    // A subgraph error without a code of ours: our subgraphs code every error they mean a client to
    // read (and mask the rest), so this text is not meant for clients (a SQL error, a file path).
    const system = serviceName ? SYSTEM_OF[serviceName] : undefined;
    return {
      ...formatted,
      message: serviceName
        ? `the ${system ?? serviceName} system (subgraph ${serviceName}) failed to answer`
        : 'a subgraph failed to answer',
      extensions: { ...extensions, code: 'SUBGRAPH_UNAVAILABLE' },
    };
  }
  if (URL_IN_TEXT.test(message) || TRANSPORT_FAILURE.test(message) || fromSubgraphHttp) {
    const system = serviceName ? SYSTEM_OF[serviceName] : undefined;
    message = serviceName
      ? `the ${system ?? serviceName} system (subgraph ${serviceName}) is unavailable`
      : 'a subgraph is unavailable';
    extensions.code = 'SUBGRAPH_UNAVAILABLE';
  }
  return { ...formatted, message, extensions };
}
