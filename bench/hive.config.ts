import { signRequest } from '@c2c/platform/auth';
import { BASELINE_IDENTITY, secretsFromEnv, SUBGRAPH_NAMES, type SubgraphName } from './security.ts';

// (c) Hive Gateway's configuration file for the bench (`hive-gateway -c <this> supergraph …`):
// every default, plus one plugin without which the subgraphs refuse it. Its `onFetch` hook runs
// for each outgoing subgraph fetch — after Hive's own in-flight deduplication, so each request
// actually sent is signed once — and adds the signature headers over the exact body string it sends,
// for a fixed identity (security.ts, BASELINE_IDENTITY).

const secrets = secretsFromEnv();
const urls = JSON.parse(process.env.BENCH_SUBGRAPH_URLS ?? '{}') as Record<string, string>;
const nameByUrl = new Map(Object.entries(urls).map(([name, url]) => [url, name]));

/**
 * The part of Hive Gateway's plugin API used here (`OnFetchHookPayload` of @graphql-mesh/types),
 * written out because importing Hive's types into the project's program augments graphql-js's
 * `GraphQLErrorExtensions` for everyone (it breaks the typecheck of gateway/src).
 */
interface OnFetchPayload {
  url: string;
  options: { method?: string; body?: unknown; headers?: Record<string, string> };
  setOptions(options: OnFetchPayload['options']): void;
  executionRequest?: { subgraphName?: string };
}

const isSubgraph = (name: string | undefined): name is SubgraphName =>
  SUBGRAPH_NAMES.includes(name as SubgraphName);

const signSubgraphRequests = {
  onFetch({ url, options, setOptions, executionRequest }: OnFetchPayload): void {
    const name = executionRequest?.subgraphName ?? nameByUrl.get(url);
    if (!isSubgraph(name)) return;
    if (typeof options.body !== 'string') throw new Error(`expected a string body to sign for ${name}`);
    setOptions({
      ...options,
      headers: {
        ...options.headers,
        ...signRequest(secrets[name]!, {
          method: options.method ?? 'POST',
          body: options.body,
          identity: BASELINE_IDENTITY,
        }),
      },
    });
  },
};

/** What `defineConfig({ plugins })` would return (it is the identity function). */
export const gatewayConfig = { plugins: () => [signSubgraphRequests] };
