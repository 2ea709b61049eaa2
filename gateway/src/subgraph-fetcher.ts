import type { Agent } from 'node:http';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import fetch, { Response } from 'node-fetch';
import { signRequest, type Principal } from '@c2c/platform/auth';
import { type Logger } from '@c2c/platform/core';
import { traceHeaders, traceSubgraphFetch } from '@c2c/platform/observability';
import { SubgraphUnavailable } from './subgraph-unavailable.ts';

export { SubgraphUnavailable };

/**
 * The gateway's HTTP client for one subgraph: signs every request with the subgraph's secret,
 * bounds it with a timeout (queries and mutations separately), retries queries — never mutations —
 * on network errors and 502/503/504 with backoff, and trips a circuit breaker after consecutive
 * failures so a dead subgraph costs nothing until it is probed again.
 */

/** One request to a subgraph, as the data source hands it over: what to sign and how to send it. */
export interface SubgraphRequest {
  url: string;
  /** The serialised GraphQL request; signed as is. */
  body: string;
  headers: Record<string, string>;
  /** Whose request it is: signed into the request, and part of the sharing key. */
  principal: Principal;
  /** Part of a client's mutation: the longer timeout, no retries, never shared. */
  mutation: boolean;
}
const RETRIABLE_STATUS = new Set([502, 503, 504]);

/** A subgraph answer read once and handed to every request that shared it. */
interface SharedAnswer {
  status: number;
  statusText: string;
  headers: [string, string][];
  text: string;
}

export interface SubgraphFetcherOptions {
  /**
   * Share one subgraph request among identical queries in flight at the same time (same subgraph,
   * same body, same principal): the second asks nothing of the subgraph and gets the first's
   * answer. Never for mutations. Default true.
   */
  dedupe?: boolean;
  name: string;
  secret: string;
  agent: Agent;
  queryTimeoutMs: number;
  mutationTimeoutMs: number;
  /** Retries after the first attempt, for queries. */
  queryRetries?: number;
  /** Consecutive failures that open the circuit, and how long it stays open before a probe. */
  breakerFailures?: number;
  breakerOpenMs?: number;
  log: Logger;
}

class RetriableStatus extends Error {
  constructor(readonly response: Response) {
    super(`status ${response.status}`);
  }
}

export interface SubgraphFetcher {
  /** Queries answered from an identical request already in flight (no subgraph request of their own). */
  deduplicated(): number;
  send: (request: SubgraphRequest) => Promise<Response>;
  breaker: CircuitBreakerPolicy;
  state(): 'closed' | 'open' | 'half-open' | 'isolated';
}

export function createSubgraphFetcher(options: SubgraphFetcherOptions): SubgraphFetcher {
  const log = options.log.child({ subgraph: options.name });
  const transient = handleWhen((error) => !(error instanceof BrokenCircuitError));
  const breaker = circuitBreaker(transient, {
    halfOpenAfter: options.breakerOpenMs ?? 10_000,
    breaker: new ConsecutiveBreaker(options.breakerFailures ?? 5),
  });
  breaker.onStateChange((state) => log.warn({ state: CircuitState[state] }, 'subgraph circuit breaker'));
  const retries = retry(transient, {
    maxAttempts: options.queryRetries ?? 2,
    backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }),
  });
  const queries = wrap(retries, breaker);

  const attempt = async (
    url: string,
    body: string,
    headers: Record<string, string>,
    principal: Principal,
    timeoutMs: number,
  ) => {
    // A fresh signature (and nonce) per attempt: a subgraph refuses a nonce it has seen.
    const signed = signRequest(options.secret, { method: 'POST', body, identity: principal });
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        // The trace context is not signed: it steers no decision of the subgraph's.
        headers: { ...headers, ...signed, ...traceHeaders() },
        body,
        agent: options.agent,
        signal: AbortSignal.timeout(timeoutMs) as never,
      });
    } catch (error) {
      const name = (error as Error).name;
      throw new SubgraphUnavailable(
        options.name,
        name === 'AbortError' || name === 'TimeoutError' ? 'timeout' : 'network',
      );
    }
    if (RETRIABLE_STATUS.has(response.status)) throw new RetriableStatus(response);
    return response;
  };

  const inflight = new Map<string, Promise<SharedAnswer>>();
  let deduplicated = 0;
  return {
    breaker,
    deduplicated: () => deduplicated,
    state: () => {
      switch (breaker.state) {
        case CircuitState.Closed:
          return 'closed';
        case CircuitState.Open:
          return 'open';
        case CircuitState.HalfOpen:
          return 'half-open';
        case CircuitState.Isolated:
          return 'isolated';
      }
    },
    send: ({ url, body, headers, principal, mutation }) =>
      traceSubgraphFetch(options.name, async () => {
        const timeoutMs = mutation ? options.mutationTimeoutMs : options.queryTimeoutMs;
        const send = async (): Promise<Response> => {
          try {
            return await (mutation ? breaker : queries).execute(() =>
              attempt(url, body, headers, principal, timeoutMs),
            );
          } catch (error) {
            if (error instanceof RetriableStatus) return error.response;
            if (error instanceof BrokenCircuitError)
              throw new SubgraphUnavailable(options.name, 'circuit-open');
            throw error;
          }
        };
        if (mutation || options.dedupe === false) return send();
        // The principal is part of the key: an answer is only shared within one identity.
        const key = `${url}\n${JSON.stringify(principal)}\n${body}`;
        let shared = inflight.get(key);
        if (!shared) {
          shared = send().then(async (response) => ({
            status: response.status,
            statusText: response.statusText,
            headers: [...response.headers.entries()],
            text: await response.text(),
          }));
          inflight.set(key, shared);
          const forget = () => inflight.delete(key);
          shared.then(forget, forget);
        } else deduplicated += 1;
        const answer = await shared;
        return new Response(answer.text, {
          status: answer.status,
          statusText: answer.statusText,
          headers: answer.headers,
        });
      }),
  };
}
