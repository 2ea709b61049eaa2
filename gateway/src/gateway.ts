import { Agent } from 'node:http';
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import fetch from 'node-fetch';
import type { GraphQLFormattedError } from 'graphql';
import {
  CALLER_HEADER,
  CORRELATION_HEADER,
  createGraphQLHttpServer,
  requestIdentity,
  type Logger,
} from '@c2c/platform';
import type { Server } from 'node:http';
import type { GatewayConfig } from './config.ts';
import { buildManifest, safelistPlugin } from './safelist.ts';

export interface GatewayContext {
  caller: string;
  correlationId: string;
}

export interface BuiltGateway {
  apollo: ApolloServer<GatewayContext>;
  server: Server;
  /** Subgraph name → the URL requests are sent to. */
  subgraphUrls: Record<string, string>;
  agent: Agent;
}

/** The gateway sends subgraphs `{"query":"mutation …`: writes get the longer timeout. */
const MUTATION_BODY = /^\{"query":"\s*mutation\b/;

const URL_IN_TEXT = /\b(?:https?:\/\/|\d{1,3}(?:\.\d{1,3}){3}:\d+)\S*/g;

/**
 * Keeps subgraph failures explainable without leaking internals: no URLs, addresses or stack
 * traces reach the client; the subgraph's name and a stable code do.
 */
export function sanitizeGatewayError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const extensions = { ...(formatted.extensions ?? {}) } as Record<string, unknown>;
  delete extensions.stacktrace;
  delete extensions.exception;
  const serviceName = typeof extensions.serviceName === 'string' ? extensions.serviceName : null;
  let message = formatted.message;
  if (URL_IN_TEXT.test(message) || /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up/i.test(message)) {
    message = serviceName ? `subgraph ${serviceName} is unavailable` : 'a subgraph is unavailable';
    extensions.code = 'SUBGRAPH_UNAVAILABLE';
  }
  URL_IN_TEXT.lastIndex = 0;
  return { ...formatted, message, extensions };
}

/** Reads the subgraph names and routing URLs composed into a supergraph. */
export function supergraphRoutingUrls(supergraphSdl: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const match of supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g)) {
    urls[match[1] as string] = match[2] as string;
  }
  return urls;
}

/** Builds the gateway (no listening): Apollo Gateway over the static supergraph, keep-alive fetches. */
export async function buildGateway(config: GatewayConfig, log: Logger): Promise<BuiltGateway> {
  const supergraphSdl = readFileSync(config.supergraphPath, 'utf8');
  const subgraphUrls = { ...supergraphRoutingUrls(supergraphSdl), ...config.subgraphUrls };
  const agent = new Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 30_000 });
  const timeoutFor = (body: unknown) =>
    typeof body === 'string' && MUTATION_BODY.test(body)
      ? config.subgraphMutationTimeoutMs
      : config.subgraphTimeoutMs;
  const gatewayLog = log.child({ component: 'gateway' });

  const gateway = new ApolloGateway({
    supergraphSdl,
    logger: {
      debug: (m) => gatewayLog.debug(m),
      info: (m) => gatewayLog.info(m),
      warn: (m) => gatewayLog.warn(m),
      error: (m) => gatewayLog.error(m),
    },
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource<GatewayContext>({
        url: subgraphUrls[name] ?? url,
        fetcher: ((input: string, init?: Record<string, unknown>) =>
          fetch(input, { ...init, agent, timeout: timeoutFor(init?.body) })) as never,
        willSendRequest: ({ request, context }) => {
          request.http?.headers.set(CORRELATION_HEADER, context.correlationId);
          request.http?.headers.set(CALLER_HEADER, context.caller);
        },
      }),
  });

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    // Shutdown is ours (entry points handle SIGTERM/SIGINT); Apollo's own handler would re-raise the signal.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    formatError: (formatted) => {
      const clean = sanitizeGatewayError(formatted);
      if (clean.message !== formatted.message) {
        gatewayLog.warn({ error: formatted.message, path: formatted.path }, 'subgraph request failed');
      }
      return clean;
    },
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      safelistPlugin(buildManifest(config.operationsDir), config.safelistMode, gatewayLog),
    ],
  });
  await apollo.start();

  const server = createGraphQLHttpServer<GatewayContext>({
    apollo,
    log: gatewayLog,
    context: async (req) => requestIdentity(req.headers),
    ready: async () => {
      const answers = await Promise.all(
        Object.values(subgraphUrls).map(async (url) => {
          try {
            const response = await fetch(url, {
              method: 'POST',
              agent,
              timeout: 2000,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ query: '{ __typename }' }),
            });
            return response.ok;
          } catch {
            return false;
          }
        }),
      );
      return answers.every(Boolean);
    },
  });
  return { apollo, server, subgraphUrls, agent };
}
