import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { subgraphsOf } from '@c2c/schema/subgraphs';
import { GENERATED, resolverTypes } from '../scripts/codegen.ts';

// The resolver types are generated from each subgraph's SDL (graphql-codegen); a change to the SDL
// or to codegen.yaml without `npm run codegen` leaves them stale, and this fails.
const typed = subgraphsOf().filter((s) => existsSync(join(s.dir, 'codegen.yaml')));

describe('generated resolver types', () => {
  it('cover at least one subgraph', () => {
    expect(typed.map((s) => s.name)).toContain('customer');
  });

  it.each(typed.map((s) => [s.name, s] as const))(
    'of %s are current (npm run codegen)',
    async (_, subgraph) => {
      const file = join(subgraph.dir, GENERATED);
      expect(
        readFileSync(file, 'utf8') === (await resolverTypes(subgraph)),
        `${file} is stale: run npm run codegen`,
      ).toBe(true);
    },
  );
});
