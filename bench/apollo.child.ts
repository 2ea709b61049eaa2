import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { signRequest } from '@c2c/platform/auth';
import { runChild } from './child-runtime.ts';
import {
  BASELINE_IDENTITY,
  secretsFromEnv,
  SUBGRAPH_NAMES,
  withoutSecurityPurpose,
  type SubgraphName,
} from './security.ts';

// (b) A bare @apollo/gateway on @apollo/server with every default: the same supergraph, its
// routing URLs pointed at the running subgraphs (BENCH_SUBGRAPH_URLS). Two things it cannot run
// without, nothing else:
// - its data sources' default fetcher is wrapped to add the signature headers over the exact body
//   it sends, for a fixed identity (security.ts, BASELINE_IDENTITY): the subgraphs refuse unsigned
//   requests;
// - the supergraph's `@link` of requiresScopes loses `for: SECURITY`: @apollo/gateway 2.14 refuses
//   to load a supergraph with a SECURITY feature it does not implement ("is for: SECURITY but is
//   unsupported"). Our gateway hands its Apollo planner the same edit (and enforces the directive
//   itself); here the directive is simply ignored. A text edit at start, nothing per request.

runChild(async () => {
  const supergraphSdl = withoutSecurityPurpose(readFileSync(process.env.BENCH_SUPERGRAPH as string, 'utf8'));
  const urls = JSON.parse(process.env.BENCH_SUBGRAPH_URLS as string) as Record<string, string>;
  const secrets = secretsFromEnv();
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => {
      if (!SUBGRAPH_NAMES.includes(name as SubgraphName)) throw new Error(`unknown subgraph ${name}`);
      const secret = secrets[name as SubgraphName]!;
      const source = new RemoteGraphQLDataSource({ url: urls[name] ?? url });
      const plain = source.fetcher; // Apollo's default (make-fetch-happen), kept as is
      source.fetcher = (target, init = {}) => {
        if (typeof init.body !== 'string') throw new Error('expected a string body to sign');
        const signature = signRequest(secret, {
          method: init.method ?? 'POST',
          body: init.body,
          identity: BASELINE_IDENTITY,
        });
        return plain(target, { ...init, headers: { ...init.headers, ...signature } });
      };
      return source;
    },
  });
  const server = new ApolloServer({ gateway, stopOnTerminationSignals: false });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url: new URL('graphql', url).toString(), stop: () => server.stop() };
});
