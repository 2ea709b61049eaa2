import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mintDevTokenFrom, ROLES, type Role } from '@c2c/platform/auth';
import type { Command } from '../lib/command.ts';

const USAGE = `Usage: npm run token -- --role <${ROLES.join('|')}> [--scopes "a b"] [--subject ID] [--ttl SECONDS]

Prints a development JWT signed by the local dev issuer of the stack in DATA_DIR (default ./.data,
relative to the current folder: run it in the repository folder, where npm start keeps its data),
for use as "Authorization: Bearer <token>". The token alone goes to stdout, so
  TOKEN=$(npm run --silent token -- --role portal)
works; stderr says which key file and DATA_DIR signed it. When that key does not exist yet it is
created, with a warning: a gateway already running with another DATA_DIR rejects such a token (401).

  --role      the role, which sets the scopes (${ROLES.join(', ')})
  --scopes    other scopes instead, space- or comma-separated
  --subject   the token's sub (default dev-<role>)
  --ttl       lifetime in seconds, 60–604800 (default 28800, 8 hours)`;

async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        role: { type: 'string' },
        scopes: { type: 'string' },
        subject: { type: 'string' },
        ttl: { type: 'string', default: '28800' },
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
  const role = values.role as Role | undefined;
  if (!role || !ROLES.includes(role)) {
    console.error(`--role must be one of ${ROLES.join(', ')}\n\n${USAGE}`);
    return 2;
  }
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 7 * 86400) {
    console.error('--ttl must be whole seconds between 60 and 604800');
    return 2;
  }
  const dataDir = resolve(process.env.DATA_DIR ?? '.data');
  try {
    const { token, keyPath, created } = await mintDevTokenFrom(dataDir, {
      role,
      ttlSeconds: ttl,
      ...(values.subject ? { subject: values.subject } : {}),
      ...(values.scopes ? { scopes: values.scopes.split(/[\s,]+/).filter(Boolean) } : {}),
    });
    // stdout carries the token alone (TOKEN=$(…)); what was done goes to stderr.
    if (created)
      console.error(
        `warning: there was no development issuer key in DATA_DIR ${dataDir}, so a new signing key was created: ${keyPath}.\n` +
          `A gateway already running with another DATA_DIR will reject this token (401). Run this command in the ` +
          `repository folder where npm start runs, or set DATA_DIR to that stack's data directory.`,
      );
    console.error(
      `token for role ${role}, valid ${formatTtl(ttl)}, signed with the development issuer key ${keyPath} (DATA_DIR ${dataDir})`,
    );
    console.log(token);
    return 0;
  } catch (error) {
    console.error(`could not mint a token: ${(error as Error).message}`);
    return 1;
  }
}

function formatTtl(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export const command: Command = {
  name: 'token',
  summary: 'print a development JWT for a role',
  usage: USAGE,
  run,
};
