import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCheck, compositionVersion } from '../../src/check/build.ts';
import { runSchemaCheck, UsageError } from '../../src/check/index.ts';
import {
  ROOT,
  addToType,
  checkProposal,
  currentBaseline,
  findings,
  realSdl,
  status,
  tempDir,
} from './fixtures.ts';

const sources = (overrides: Record<string, string> = {}) =>
  ['customer', 'subscription', 'finance'].map((name) => ({
    name,
    routingUrl: `http://${name}.test/graphql`,
    file: `subgraphs/${name}/schema.graphql`,
    typeDefs: overrides[name] ?? realSdl(name),
  }));

describe('buildCheck', () => {
  it('composes the real subgraphs at the pinned federation version', () => {
    const out = buildCheck({
      subgraphs: sources(),
      federationVersion: `=${compositionVersion()}`,
      committed: null,
    });
    expect(out.result.status).toBe('PASSED');
    expect(out.result.summary).toMatch(/composed 3 subgraphs with federation 2\.14\.4/);
    expect(out.apiSchema?.getType('Customer')).toBeDefined();
  });

  it('reports a syntax error with the subgraph, file and line', () => {
    const out = buildCheck({
      subgraphs: sources({ finance: 'type Query {\n  ok: Int\n  broken(: Int\n}' }),
      federationVersion: null,
      committed: null,
    });
    expect(out.result.status).toBe('FAILED');
    expect(out.result.findings[0]).toMatchObject({
      code: 'INVALID_GRAPHQL',
      subgraph: 'finance',
      location: { file: 'subgraphs/finance/schema.graphql', line: 3, column: 10 },
    });
  });

  it('reports composition errors with every subgraph and line involved', () => {
    const finance = addToType(
      realSdl('finance'),
      'Customer',
      '  """\n  Copied.\n  """\n  businessUnit: String!',
    );
    const out = buildCheck({ subgraphs: sources({ finance }), federationVersion: null, committed: null });
    const error = out.result.findings.find((f) => f.code === 'INVALID_FIELD_SHARING');
    expect(error?.severity).toBe('FAIL');
    expect(error?.description).toMatch(
      /at customer subgraphs\/customer\/schema\.graphql:\d+:3, finance subgraphs\/finance\/schema\.graphql:\d+:3/,
    );
  });

  it('reports composition hints as warnings', () => {
    const finance = realSdl('finance').replace(
      'Relay-style page information.',
      'Paging information (finance).',
    );
    expect(finance).not.toBe(realSdl('finance'));
    const out = buildCheck({ subgraphs: sources({ finance }), federationVersion: null, committed: null });
    expect(out.result.status).toBe('PASSED');
    expect(out.result.findings).toContainEqual(
      expect.objectContaining({ severity: 'WARN', code: 'INCONSISTENT_DESCRIPTION' }),
    );
  });

  it('fails when rover.yaml pins another federation version than the installed composition', () => {
    const out = buildCheck({ subgraphs: sources(), federationVersion: '=2.0.0', committed: null });
    expect(out.result.findings[0]).toMatchObject({ severity: 'FAIL', code: 'FEDERATION_VERSION_MISMATCH' });
  });

  it('fails when the committed supergraph is not a fresh composition, and says to run compose', async () => {
    const stale = join(tempDir(), 'supergraph.graphql');
    writeFileSync(stale, '# an old composition\n');
    const report = await runSchemaCheck({
      root: ROOT,
      base: currentBaseline(),
      paths: { supergraph: stale },
    });
    expect(status(report).Build).toBe('FAILED');
    expect(findings(report, 'FAIL')).toEqual([
      expect.objectContaining({
        code: 'SUPERGRAPH_STALE',
        description: expect.stringContaining('run npm run compose'),
      }),
    ]);
  });

  it('skips the checks that need a supergraph when composition fails', async () => {
    const report = await checkProposal('finance', 'type Query { broken(: Int }');
    expect(status(report)).toEqual({
      Build: 'FAILED',
      'Breaking Change': 'SKIPPED',
      Operation: 'SKIPPED',
      Ownership: 'SKIPPED',
      Linter: 'SKIPPED',
      // The event contracts do not depend on the GraphQL schemas.
      'Event Contract': 'PASSED',
    });
  });

  it('treats a missing Rover config or proposed schema as a usage error', async () => {
    await expect(runSchemaCheck({ root: ROOT, config: 'nope.yaml' })).rejects.toBeInstanceOf(UsageError);
    await expect(
      runSchemaCheck({
        root: ROOT,
        base: currentBaseline(),
        proposed: { subgraph: 'finance', file: '/nonexistent.graphql' },
      }),
    ).rejects.toThrow(/--schema file not found/);
    await expect(runSchemaCheck({ root: ROOT, base: 'no-such-rev-or-file' })).rejects.toThrow(
      /neither a file nor a git revision/,
    );
  });
});
