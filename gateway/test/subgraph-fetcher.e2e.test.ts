import { Agent, createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@c2c/platform/core';
import { listen } from '@c2c/platform/graphql';
import { createSubgraphFetcher } from '../src/subgraph-fetcher.ts';

// The gateway's subgraph client against a real HTTP server that answers slowly and counts.
let requests = 0;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    requests += 1;
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { echo: body.length, n: requests } }));
    }, 50);
  });
});
let url = '';
const agent = new Agent({ keepAlive: true });
const fetcher = createSubgraphFetcher({
  name: 'test',
  secret: 's'.repeat(32),
  agent,
  queryTimeoutMs: 2000,
  mutationTimeoutMs: 2000,
  log: silentLogger(),
});
const call = (body: string, sub = 'alice', mutation = false) =>
  fetcher
    .send({
      url,
      body,
      headers: { 'content-type': 'application/json' },
      principal: { sub, role: 'portal', scopes: ['c2c:read'] },
      mutation,
    })
    .then(async (r) => (await r.json()) as { data: { n: number } });

beforeAll(async () => {
  url = (await listen(server, 0)).url;
});
afterAll(async () => {
  agent.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('subgraph fetcher: in-flight deduplication', () => {
  it('sends identical concurrent queries of one principal once and gives each the answer', async () => {
    requests = 0;
    const query = JSON.stringify({ query: '{ plans { code } }' });
    const answers = await Promise.all([call(query), call(query), call(query)]);
    expect(requests).toBe(1);
    expect(answers.map((a) => a.data.n)).toEqual([1, 1, 1]);
    expect(fetcher.deduplicated()).toBeGreaterThanOrEqual(2);
  });

  it('never shares between principals, between different queries, or once the first has answered', async () => {
    requests = 0;
    const query = JSON.stringify({ query: '{ plans { code } }' });
    await Promise.all([
      call(query, 'alice'),
      call(query, 'bob'),
      call(JSON.stringify({ query: '{ other }' })),
    ]);
    expect(requests).toBe(3);
    await call(query);
    expect(requests).toBe(4);
  });

  it('never shares mutations', async () => {
    requests = 0;
    const mutation = JSON.stringify({ query: 'mutation { amendSubscription { id } }' });
    await Promise.all([call(mutation, 'alice', true), call(mutation, 'alice', true)]);
    expect(requests).toBe(2);
  });
});
