import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayConfigFromEnv } from '@c2c/gateway';
import { graphql } from '@c2c/platform/testing';
import { composeSupergraph, readRoverConfig } from '@c2c/schema/compose';
import { ROVER_CONFIG, subgraphsOf } from '@c2c/schema/subgraphs';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterPlan } from '@c2c/apps/cluster';
import type { Stack } from '@c2c/apps/stack';
import { startTestStack } from '../support/stack.ts';

// rover.yaml is the one list of subgraphs: a throw-away fourth subgraph added to a copy of it is
// composed, started and routed to by the embedded stack, required by the gateway's configuration
// and planned by the cluster launcher, with no other edit anywhere.

const dir = mkdtempSync(join(tmpdir(), 'c2c-fourth-'));
const probeDir = join(dir, 'probe');

function writeFourthSubgraph(): string {
  mkdirSync(join(probeDir, 'src'), { recursive: true });
  mkdirSync(join(probeDir, 'migrations'));
  writeFileSync(
    join(probeDir, 'schema.graphql'),
    `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@requiresScopes"])

"""The probe: a subgraph that exists only for this test."""
type Query {
  """Echoes its argument."""
  probeEcho("""What to echo.""" text: String!): String! @requiresScopes(scopes: [["c2c:read"]])
}
`,
  );
  // Plain TypeScript with no imports: the file lives outside the repository's node_modules.
  writeFileSync(
    join(probeDir, 'src', 'index.ts'),
    `import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const ROOT = join(import.meta.dirname, '..');
export function buildSubgraph() {
  return {
    name: 'probe',
    migrationsDir: join(ROOT, 'migrations'),
    typeDefs: readFileSync(join(ROOT, 'schema.graphql'), 'utf8'),
    resolvers: { Query: { probeEcho: (_: unknown, args: { text: string }) => \`probe:\${args.text}\` } },
    createContext: (base: unknown) => base,
    consumers: {},
  };
}
`,
  );
  const rover = YAML.parse(readFileSync(ROVER_CONFIG, 'utf8')) as {
    subgraphs: Record<string, { routing_url: string; schema: { file: string } }>;
  };
  for (const entry of Object.values(rover.subgraphs))
    entry.schema.file = join(ROVER_CONFIG, '..', entry.schema.file);
  rover.subgraphs.probe = {
    routing_url: 'http://127.0.0.1:4999/graphql',
    schema: { file: join(probeDir, 'schema.graphql') },
  };
  const file = join(dir, 'rover.yaml');
  writeFileSync(file, YAML.stringify(rover));
  return file;
}

describe('a fourth subgraph in rover.yaml', () => {
  const roverConfig = writeFourthSubgraph();
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ roverConfig });
  });
  afterAll(() => stack?.stop());

  it('is listed with the three others, in order, with its variables', () => {
    expect(subgraphsOf(roverConfig).map((s) => [s.name, s.envPrefix])).toEqual([
      ...subgraphsOf().map((s) => [s.name, s.envPrefix]),
      ['probe', 'PROBE'],
    ]);
  });

  it('is started by the embedded stack and routed to by its gateway, beside the others', async () => {
    expect(stack.subgraphs.map((s) => s.name)).toContain('probe');
    const answer = await graphql<{ probeEcho: string; customers: { totalCount: number } }>(
      stack.gatewayUrl,
      '{ probeEcho(text: "hello") customers(first: 1) { totalCount } }',
    );
    expect(answer).toEqual({ data: { probeEcho: 'probe:hello', customers: { totalCount: 0 } } });
  });

  it("is required by the gateway's configuration: PROBE_SUBGRAPH_SECRET and PROBE_URL", () => {
    const composed = composeSupergraph(readRoverConfig(roverConfig));
    expect(composed.errors).toBeUndefined();
    const supergraph = join(dir, 'supergraph.graphql');
    writeFileSync(supergraph, composed.supergraphSdl!);
    const secrets = Object.fromEntries(
      subgraphsOf().map((s) => [`${s.envPrefix}_SUBGRAPH_SECRET`, 'x'.repeat(32)]),
    );
    expect(() => gatewayConfigFromEnv({ SUPERGRAPH_PATH: supergraph, ...secrets })).toThrow(
      /PROBE_SUBGRAPH_SECRET is required/,
    );
    const config = gatewayConfigFromEnv({
      SUPERGRAPH_PATH: supergraph,
      ...secrets,
      PROBE_SUBGRAPH_SECRET: 'p'.repeat(32),
      PROBE_URL: 'http://10.0.0.9:4100/graphql',
    });
    expect(config.subgraphSecrets.probe).toBe('p'.repeat(32));
    expect(config.subgraphUrls).toEqual({ probe: 'http://10.0.0.9:4100/graphql' });
  });

  it('is built and started by the cluster launcher', () => {
    const plan = clusterPlan(roverConfig);
    expect(plan.subgraphs).toEqual([...subgraphsOf().map((s) => s.name), 'probe']);
    expect(plan.entryPoints.probe).toBe(join(probeDir, 'src', 'main.ts'));
  });
});
