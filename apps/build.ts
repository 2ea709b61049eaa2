import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { ENTRY_POINTS } from './entry-points.ts';

export { ENTRY_POINTS, entryPointsFor } from './entry-points.ts';

const ROOT = join(import.meta.dirname, '..');

const USAGE = `Usage: npm run build [-- --outdir DIR]

Compiles the production entry points to plain JavaScript for \`node\` (no TypeScript runner):
  dist/gateway.js, dist/<subgraph>.js for each subgraph of rover.yaml, and dist/c2c.js (the operator CLI)
Each bundles our workspace code (@c2c/*) and imports npm packages from node_modules. At run time
they read their data files — migrations, SDL, the supergraph, the registered operations — from the
repository tree next to dist/ (a container image copies those directories with it).`;

/** npm packages stay imports; only our workspaces are bundled. */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@c2c/') ? undefined : { path: args.path, external: true },
    );
  },
};

/**
 * Source files find their data files through `import.meta.dirname`; in a bundle that would be
 * dist/. Each use is rewritten to the file's own source directory, relative to the bundle.
 */
const sourceDirectories: Plugin = {
  name: 'source-directories',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.dirname')) return { contents: text, loader: 'ts' };
      const directory = relative(ROOT, dirname(args.path)).split('\\').join('/');
      return {
        contents: text.replaceAll('import.meta.dirname', `__c2cSourceDir(${JSON.stringify(directory)})`),
        loader: 'ts',
      };
    });
  },
};

const BANNER = [
  "import { fileURLToPath as __c2cFileUrl } from 'node:url';",
  "import { dirname as __c2cDirname, join as __c2cJoin } from 'node:path';",
  "const __c2cRoot = __c2cJoin(__c2cDirname(__c2cFileUrl(import.meta.url)), '..');",
  'const __c2cSourceDir = (dir) => __c2cJoin(__c2cRoot, dir);',
].join('\n');

export async function buildAll(
  outdir = join(ROOT, 'dist'),
  entryPoints: Record<string, string> = ENTRY_POINTS,
): Promise<string[]> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    banner: { js: BANNER },
    plugins: [externalPackages, sourceDirectories],
    metafile: true,
  });
  return Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.js'));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { outdir: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const started = Date.now();
  const outputs = await buildAll(values.outdir ? join(process.cwd(), values.outdir) : undefined);
  console.log(`built ${outputs.join(', ')} in ${Date.now() - started} ms`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
