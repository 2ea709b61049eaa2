import { createRequire } from 'node:module';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type * as GraphQLModule from 'graphql';
import type { Response } from 'node-fetch';
import { CORRELATION_HEADER } from '@c2c/platform/graphql';
import type { EntityCache, SubgraphAnswer } from './cache/entity-cache.ts';
import type { GatewayContext } from './context.ts';
import type { SubgraphRequest } from './subgraph-fetcher.ts';

type GatewayGraphQLResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

// Errors thrown to Apollo must be its own graphql instance's GraphQLError (the CommonJS build).
const { GraphQLError } = createRequire(import.meta.url)('graphql') as typeof GraphQLModule;

/**
 * How the gateway reaches one subgraph. The request's context (the principal, the correlation id,
 * whether the client's operation is a mutation) is at hand here, so the request is serialised once
 * and handed to the subgraph's client to sign and send. Nothing from the client's HTTP request is
 * forwarded: identity travels only signed.
 */
export class SignedDataSource implements GraphQLDataSource<GatewayContext> {
  constructor(
    private readonly url: string,
    private readonly send: (request: SubgraphRequest) => Promise<Response>,
    /** The entity cache and this subgraph's name in it, when the cache is on (docs/cache.md). */
    private readonly cache?: { cache: EntityCache; subgraph: string },
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    // A static supergraph: the gateway neither loads schemas from nor health-checks its subgraphs.
    if (!('incomingRequestContext' in options))
      throw new Error(`internal: a subgraph request of kind ${options.kind}`);
    const { request, context } = options;
    const query = request.query;
    if (!query) throw new Error('internal: a subgraph request without a query');
    const mutation = options.incomingRequestContext.operation?.operation === 'mutation';
    const ask = (variables: Record<string, unknown> | undefined) =>
      this.ask(options, query, variables, mutation) as Promise<SubgraphAnswer>;
    if (!this.cache) return this.ask(options, query, request.variables, mutation);
    if (mutation) {
      // Read-your-writes: what was read from this subgraph goes before the client hears the answer.
      const answer = await this.ask(options, query, request.variables, mutation);
      await this.cache.cache.mutated(this.cache.subgraph);
      return answer;
    }
    const answer = await this.cache.cache.resolve(
      this.cache.subgraph,
      {
        query,
        ...(request.variables ? { variables: request.variables } : {}),
        ...(request.operationName ? { operationName: request.operationName } : {}),
      },
      context.principal,
      ask,
    );
    return answer as GatewayGraphQLResponse;
  }

  private async ask(
    options: Extract<GraphQLDataSourceProcessOptions<GatewayContext>, { incomingRequestContext: unknown }>,
    query: string,
    variables: Record<string, unknown> | undefined,
    mutation: boolean,
  ): Promise<GatewayGraphQLResponse> {
    const { request, context } = options;
    const body = JSON.stringify({
      query,
      ...(variables ? { variables } : {}),
      ...(request.operationName ? { operationName: request.operationName } : {}),
    });
    const response = await this.send({
      url: this.url,
      body,
      headers: { 'content-type': 'application/json', [CORRELATION_HEADER]: context.correlationId },
      principal: context.principal,
      mutation,
    });
    const parsed = await readBody(response);
    if (!response.ok) {
      // As Apollo's RemoteGraphQLDataSource reports it; sanitizeGatewayError turns it into a code.
      throw new GraphQLError(`${response.status}: ${response.statusText}`, {
        extensions: {
          response: { status: response.status, statusText: response.statusText, body: parsed },
          ...(response.status === 401 ? { code: 'UNAUTHENTICATED' } : {}),
          ...(response.status === 403 ? { code: 'FORBIDDEN' } : {}),
        },
      });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('a subgraph answered without a JSON object');
    return parsed as GatewayGraphQLResponse;
  }
}

async function readBody(response: Response): Promise<unknown> {
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  if (!type.startsWith('application/json') && !type.startsWith('application/graphql-response+json'))
    return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
