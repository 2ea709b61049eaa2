import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '@c2c/platform/core';
import { buildManifest, operationId, safelistPlugin, type SafelistMode } from '../src/safelist.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-ops-'));
  writeFileSync(join(dir, 'app.Hello.graphql'), '# a comment\nquery Hello { hello }\n');
  writeFileSync(join(dir, 'app.Bump.graphql'), 'mutation Bump {\n  bump\n}\n');
  return buildManifest(dir);
}

async function run(mode: SafelistMode, request: { query?: string; extensions?: Record<string, unknown> }) {
  const server = new ApolloServer({
    typeDefs: 'type Query { hello: String, other: String } type Mutation { bump: Int, other: Int }',
    resolvers: {
      Query: { hello: () => 'hi', other: () => 'x' },
      Mutation: { bump: () => 1, other: () => 2 },
    },
    plugins: [safelistPlugin(fixture(), mode, silentLogger())],
  });
  await server.start();
  try {
    const response = await server.executeOperation(request as never);
    if (response.body.kind !== 'single') throw new Error('unexpected incremental response');
    return response.body.singleResult;
  } finally {
    await server.stop();
  }
}

describe('persisted query manifest', () => {
  it('compiles every registered client operation with a stable id', () => {
    const manifest = buildManifest(join(ROOT, 'schema', 'operations'));
    expect(manifest.format).toBe('apollo-persisted-query-manifest');
    const names = manifest.operations.map((op) => op.name);
    expect(names).toEqual(expect.arrayContaining(['CustomerToCash', 'AmendSubscription', 'RecordPayment']));
    expect(new Set(manifest.operations.map((op) => op.id)).size).toBe(manifest.operations.length);
    const c2c = manifest.operations.find((op) => op.name === 'CustomerToCash');
    expect(c2c?.type).toBe('query');
    expect(c2c?.id).toBe(operationId(c2c!.body));
  });
});

describe('safelist modes', () => {
  const registeredQuery = 'query Hello {\n  hello\n}';
  it('off and audit run anything', async () => {
    expect((await run('off', { query: 'mutation { other }' })).data).toEqual({ other: 2 });
    expect((await run('audit', { query: 'mutation { other }' })).data).toEqual({ other: 2 });
  });

  it('enforce runs only registered operations, whatever their formatting', async () => {
    expect((await run('enforce', { query: registeredQuery })).data).toEqual({ hello: 'hi' });
    const refused = await run('enforce', { query: '{ other }' });
    expect(refused.errors?.[0]?.extensions?.code).toBe('OPERATION_NOT_IN_SAFELIST');
  });

  it('enforce-mutations lets queries through and refuses unregistered mutations', async () => {
    expect((await run('enforce-mutations', { query: '{ other }' })).data).toEqual({ other: 'x' });
    expect((await run('enforce-mutations', { query: 'mutation Bump { bump }' })).data).toEqual({ bump: 1 });
    const refused = await run('enforce-mutations', { query: 'mutation { other }' });
    expect(refused.errors?.[0]?.extensions?.code).toBe('OPERATION_NOT_IN_SAFELIST');
  });

  it('id-only takes the body from the manifest and refuses anything else', async () => {
    const id = operationId(registeredQuery);
    expect(
      (await run('id-only', { extensions: { persistedQuery: { version: 1, sha256Hash: id } } })).data,
    ).toEqual({ hello: 'hi' });
    const unknown = await run('id-only', {
      extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } },
    });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const bodyOnly = await run('id-only', { query: registeredQuery });
    expect(bodyOnly.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });
});

describe('schema/persisted-query-manifest.json', () => {
  it('is what `npm run c2c -- safelist` compiles from schema/operations (regenerate it when this fails)', async () => {
    const { manifestText, MANIFEST_PATH } = await import('../../cli/commands/safelist.ts');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(MANIFEST_PATH, 'utf8')).toBe(manifestText());
  });
});
