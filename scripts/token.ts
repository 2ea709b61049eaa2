import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mintDevToken, ROLES, type Role } from '@c2c/platform';

const USAGE = `Usage: npm run token -- --role <${ROLES.join('|')}> [--scopes "a b"] [--subject ID] [--ttl SECONDS]

Prints a development JWT signed by the local dev issuer of the stack in DATA_DIR (default ./.data),
for use as "Authorization: Bearer <token>". The key is created on first use.`;

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
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
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const role = values.role as Role | undefined;
  if (!role || !ROLES.includes(role)) {
    console.error(`--role must be one of ${ROLES.join(', ')}\n\n${USAGE}`);
    process.exit(2);
  }
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 7 * 86400) {
    console.error('--ttl must be whole seconds between 60 and 604800');
    process.exit(2);
  }
  const dataDir = resolve(process.env.DATA_DIR ?? '.data');
  mintDevToken(dataDir, {
    role,
    ttlSeconds: ttl,
    ...(values.subject ? { subject: values.subject } : {}),
    ...(values.scopes ? { scopes: values.scopes.split(/[\s,]+/).filter(Boolean) } : {}),
  }).then(
    (token) => console.log(token),
    (error: unknown) => {
      console.error(`could not mint a token: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
main();
