import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildManifest } from '@c2c/gateway/safelist';
import { parseOptions, type Command } from '../lib/command.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const MANIFEST_PATH = join(ROOT, 'schema', 'persisted-query-manifest.json');

const USAGE = `Usage: npm run c2c -- safelist [--check]

Compiles the registered client operations (schema/operations/*.graphql) into an Apollo persisted
query manifest, schema/persisted-query-manifest.json: clients send an operation's id, the gateway
runs only what the manifest lists (SAFELIST_MODE). --check fails when the committed file is stale.`;

/** The manifest as committed: stable JSON with a trailing newline. */
export function manifestText(): string {
  return `${JSON.stringify(buildManifest(join(ROOT, 'schema', 'operations')), null, 2)}\n`;
}

export const command: Command = {
  name: 'safelist',
  summary: 'compile schema/operations into the persisted query manifest',
  usage: USAGE,
  async run(argv) {
    const { values } = parseOptions(
      {
        args: argv,
        options: {
          check: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
      },
      USAGE,
    );
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const text = manifestText();
    if (values.check) {
      let current = '';
      try {
        current = readFileSync(MANIFEST_PATH, 'utf8');
      } catch {
        // a missing file is stale too
      }
      if (current !== text) {
        console.error('schema/persisted-query-manifest.json is stale: run npm run c2c -- safelist');
        return 1;
      }
      console.log('persisted query manifest is up to date');
      return 0;
    }
    writeFileSync(MANIFEST_PATH, text);
    console.log(`wrote ${MANIFEST_PATH} (${JSON.parse(text).operations.length} operations)`);
    return 0;
  },
};
