import { parseArgs } from 'node:util';
import { subgraphsOf } from '@c2c/schema/subgraphs';
import type { Command } from '../lib/command.ts';
import { setupSubgraphRoles, SUBGRAPH_SCHEMAS } from '../lib/db-roles.ts';

const USAGE = `Usage: npm run c2c -- db setup [--database-url URL] [--connection-limit N] [--json]

Prepares a PostgreSQL database for the scaled-out shape: one schema and one login role per subgraph
(c2c_<name> for each subgraph of rover.yaml). Each role owns its schema and has no privilege on the
others', so a subgraph can read only its own data. Idempotent; sets new random passwords each run
(or takes ${subgraphsOf()
  .map((s) => `${s.envPrefix}_DB_PASSWORD`)
  .join(', ')} from the environment).
Prints the DATABASE_URL each subgraph's processes should use.

  --database-url URL     an administrator's connection (default: DATABASE_URL)
  --connection-limit N   most connections per role, all replicas together (default 40)
  --json                 print {"<subgraph>": url, ...} instead of shell lines`;

async function run(argv: string[]): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'database-url': { type: 'string' },
        'connection-limit': { type: 'string', default: '40' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals[0] !== 'setup') {
    console.error(`unknown db command ${positionals[0] ?? '(none)'}\n\n${USAGE}`);
    return 2;
  }
  const adminUrl = values['database-url'] ?? process.env.DATABASE_URL;
  if (!adminUrl || !/^postgres(ql)?:\/\//.test(adminUrl)) {
    console.error(`--database-url (or DATABASE_URL) must be a postgres:// URL\n\n${USAGE}`);
    return 2;
  }
  const limit = Number(values['connection-limit']);
  if (!Number.isInteger(limit) || limit < 2 || limit > 10_000) {
    console.error('--connection-limit must be a whole number from 2 to 10000');
    return 2;
  }
  const passwords = Object.fromEntries(
    SUBGRAPH_SCHEMAS.flatMap((s) => {
      const given = process.env[`${s.toUpperCase()}_DB_PASSWORD`];
      return given ? [[s, given]] : [];
    }),
  );
  try {
    const { urls } = await setupSubgraphRoles({
      adminUrl,
      passwords,
      connectionLimit: limit,
      setting: values['database-url'] ? '--database-url' : 'DATABASE_URL',
    });
    if (values.json) console.log(JSON.stringify(urls));
    else
      for (const [schema, url] of Object.entries(urls))
        console.log(`${schema.toUpperCase()}_DATABASE_URL=${url}`);
    return 0;
  } catch (error) {
    console.error(`db setup failed: ${(error as Error).message}`);
    return 1;
  }
}

export const command: Command = {
  name: 'db',
  summary: 'prepare PostgreSQL: a schema and a role per subgraph',
  usage: USAGE,
  run,
};
