import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every workspace declares the npm packages it imports, in its own package.json: `dependencies`
// for what its shipped code imports, `devDependencies` for tests and tools. Nothing is declared
// that nothing imports, unless the package.json says why (`c2c.unimported`).
const ROOT = join(import.meta.dirname, '..');

interface Manifest {
  name: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  c2c?: { unimported?: Record<string, string>; devOnly?: Record<string, string> };
}
const manifest = (dir: string) =>
  JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest;
const root = manifest('.');
const workspaces = root.workspaces ?? [];
const workspaceOf = (file: string) =>
  workspaces.filter((w) => file.startsWith(`${w}/`)).sort((a, b) => b.length - a.length)[0] ?? '.';

const IMPORT =
  /(?:from\s+|import\s*\(\s*|import\s+|require\(\s*|require\.resolve\(\s*|meta\.resolve\(\s*)'([^'.][^']*)'/g;
const packageOf = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? '');

/** Workspace → package → imported by shipped code (true) or by tests and tools only (false). */
const SKIPPED = new Set(['node_modules', '.git', '.data', 'dist', 'coverage', '.bench']);

function imports(): Map<string, Map<string, boolean>> {
  // The source tree as a reader sees it (no git: the unit project runs no child process), without
  // installed packages, build output and local data.
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIPPED.has(entry.name) && !entry.name.startsWith('.data-')) walk(path);
      } else if (/\.(ts|js|mjs)$/.test(entry.name)) files.push(path);
    }
  };
  walk('');
  const result = new Map<string, Map<string, boolean>>();
  for (const file of files) {
    const test = /(^|\/)test\//.test(file) || file.endsWith('.test.ts');
    const workspace = workspaceOf(file);
    const used = result.get(workspace) ?? new Map<string, boolean>();
    result.set(workspace, used);
    for (const match of readFileSync(join(ROOT, file), 'utf8').matchAll(IMPORT)) {
      const specifier = match[1]!;
      if (specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!)) continue;
      const name = packageOf(specifier);
      if (!/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+$/.test(name)) continue;
      used.set(name, (used.get(name) ?? false) || !test);
    }
  }
  return result;
}

const used = imports();

describe('workspace dependencies', () => {
  it.each(['.', ...workspaces])('%s declares what it imports, and nothing it does not', (dir) => {
    const own = manifest(dir);
    const dependencies = own.dependencies ?? {};
    const declared = { ...dependencies, ...own.devDependencies };
    const imported = used.get(dir) ?? new Map<string, boolean>();
    const problems: string[] = [];
    for (const [name, shipped] of imported) {
      if (name === own.name || (dir === '.' && name.startsWith('@c2c/'))) continue;
      if (!(name in declared)) problems.push(`imports ${name} but does not declare it`);
      else if (
        dir !== '.' &&
        shipped &&
        !(name in dependencies) &&
        !own.c2c?.devOnly?.[name] &&
        !own.c2c?.devOnly?.['*']
      )
        problems.push(`ships code importing ${name}, which is only a devDependency`);
    }
    for (const name of Object.keys(declared)) {
      const typesOf = name.startsWith('@types/') ? name.slice('@types/'.length) : null;
      const explained = own.c2c?.unimported?.[name] !== undefined;
      const typings = typesOf !== null && (typesOf in declared || imported.has(typesOf));
      if (!imported.has(name) && !explained && !typings)
        problems.push(`declares ${name} but nothing imports it (remove it, or say why under c2c.unimported)`);
    }
    expect(problems, `${dir}/package.json`).toEqual([]);
  });

  it('are copied into the image before npm ci (one COPY per workspace package.json)', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    for (const dir of workspaces)
      expect(dockerfile, `Dockerfile must COPY ${dir}/package.json`).toContain(
        `COPY ${dir}/package.json ${dir}/`,
      );
  });
});
