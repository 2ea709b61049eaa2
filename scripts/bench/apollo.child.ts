import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { runChild } from './child-runtime.ts';

// (b) A bare @apollo/gateway on @apollo/server with every default: the same supergraph, its
// routing URLs pointed at the running subgraphs (BENCH_SUBGRAPH_URLS), nothing else.

runChild(async () => {
  const supergraphSdl = readFileSync(process.env.BENCH_SUPERGRAPH as string, 'utf8');
  const urls = JSON.parse(process.env.BENCH_SUBGRAPH_URLS as string) as Record<string, string>;
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => new RemoteGraphQLDataSource({ url: urls[name] ?? url }),
  });
  const server = new ApolloServer({ gateway, stopOnTerminationSignals: false });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url: new URL('graphql', url).toString(), stop: () => server.stop() };
});
