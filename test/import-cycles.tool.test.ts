import { join } from 'node:path';
import madge from 'madge';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
/** Every workspace and the composition roots: no module may import itself back, type imports included. */
const SOURCES = [
  'platform/src',
  'gateway/src',
  'ops/src',
  'apps',
  'cli',
  'bench',
  'subgraphs',
  'schema/src',
  'scripts',
];

async function cycles(paths: string[]): Promise<string[][]> {
  const graph = await madge(
    paths.map((p) => join(ROOT, p)),
    { fileExtensions: ['ts'], tsConfig: join(ROOT, 'tsconfig.json'), excludeRegExp: [/node_modules/] },
  );
  return graph.circular();
}

describe('import cycles', () => {
  it('there are none in any workspace', async () => {
    expect(await cycles(SOURCES)).toEqual([]);
  });

  it('the check sees one when there is one', async () => {
    // Two modules of the repository that import each other would be listed; prove the detector
    // works on a known pair by pointing it at a fixture that has one.
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'c2c-cycle-'));
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b.ts';\nexport const a = () => b;\n");
    writeFileSync(
      join(dir, 'b.ts'),
      "import type { a } from './a.ts';\nexport const b = 1 as unknown as typeof a;\n",
    );
    const graph = await madge(dir, { fileExtensions: ['ts'] });
    expect(graph.circular()).toEqual([['a.ts', 'b.ts']]);
  });
});
