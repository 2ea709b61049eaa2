import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mintDevToken, ROLES, type Role } from '@c2c/platform/auth';
import type { Command } from '../lib/command.ts';

const USAGE = `Usage: npm run token -- --role <${ROLES.join('|')}> [--scopes "a b"] [--subject ID] [--ttl SECONDS]

Prints a development JWT signed by the local dev issuer of the stack in DATA_DIR (default ./.data),
for use as "Authorization: Bearer <token>". The key is created on first use.`;

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
    const token = await mintDevToken(dataDir, {
      role,
      ttlSeconds: ttl,
      ...(values.subject ? { subject: values.subject } : {}),
      ...(values.scopes ? { scopes: values.scopes.split(/[\s,]+/).filter(Boolean) } : {}),
    });
    console.log(token);
    return 0;
  } catch (error) {
    console.error(`could not mint a token: ${(error as Error).message}`);
    return 1;
  }
}

export const command: Command = {
  name: 'token',
  summary: 'print a development JWT for a role',
  usage: USAGE,
  run,
};
