import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { subgraphsOf } from '@c2c/schema/subgraphs';

// rover.yaml is the one list of subgraphs: the gateway, the composition roots, the CLI and the
// benchmark derive it and never name a subgraph — no import of a subgraph's package or folder, no
// query into a subgraph's database schema by name. (Role names such as `finance` are not
// subgraph names here: a role is spelled as a token role, not as a package, path or schema.)
const ROOT = join(import.meta.dirname, '..');
const FOLDERS = ['gateway/src', 'apps', 'cli', 'bench'];
const names = subgraphsOf().map((s) => s.name);

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory())
      return entry.name === 'node_modules' || entry.name === 'test' ? [] : sources(path);
    return /\.(ts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Where `name` is spelled as a subgraph: its package, its folder, or its database schema. */
function spellings(text: string, name: string): string[] {
  const patterns = [
    new RegExp(`['"\`]@c2c/${name}(/[^'"\`]*)?['"\`]`, 'g'),
    new RegExp(`subgraphs/${name}\\b`, 'g'),
    new RegExp(
      `(withSchema|schema|insertInto|selectFrom|updateTable|deleteFrom)\\(\\s*['"\`]${name}(\\.[a-z_]+)?['"\`]`,
      'g',
    ),
    new RegExp(`\\b(from|join|into|update)\\s+"?${name}"?\\.[a-z_]+`, 'gi'),
  ];
  return patterns.flatMap((p) => [...text.matchAll(p)].map((m) => m[0]));
}

describe('no subgraph name in the gateway, apps, CLI or bench source', () => {
  it('finds the subgraphs of rover.yaml to look for', () => {
    expect(names.length).toBeGreaterThanOrEqual(3);
  });

  it.each(FOLDERS)('%s spells no subgraph as a package, folder or database schema', (folder) => {
    const found = sources(folder).flatMap((file) => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      return names.flatMap((name) => spellings(text, name).map((s) => `${file}: ${s}`));
    });
    expect(found).toEqual([]);
  });

  it('would see a spelled subgraph (the check can fail)', () => {
    const name = names[0]!;
    expect(spellings(`import { x } from '@c2c/${name}/consumers';`, name)).toHaveLength(1);
    expect(spellings(`db.withSchema('${name}')`, name)).toHaveLength(1);
    expect(spellings(`join(ROOT, 'subgraphs/${name}/schema.graphql')`, name)).toHaveLength(1);
    expect(spellings(`select * from ${name}.some_table where id = 1`, name)).toHaveLength(1);
  });
});
