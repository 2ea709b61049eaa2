import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiSchemaSdl } from '../src/check/build.ts';

const SCHEMA = join(import.meta.dirname, '..');

describe('schema/api.graphql, the client API schema for code generators', () => {
  const committed = readFileSync(join(SCHEMA, 'api.graphql'), 'utf8');

  it('is the API schema of the committed supergraph (npm run compose writes both)', () => {
    expect(committed).toBe(apiSchemaSdl(readFileSync(join(SCHEMA, 'supergraph.graphql'), 'utf8')));
  });

  it('has no federation machinery, only what clients can query', () => {
    expect(committed).not.toMatch(/join__|link__|@link|@join|@requiresScopes|_Entity|_service/);
    expect(committed).toMatch(/^type Query \{/m);
    expect(committed).toMatch(/^type Mutation \{/m);
  });
});
