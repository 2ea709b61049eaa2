import { parseArgs } from 'node:util';
import { subgraphsOf } from '@c2c/schema/subgraphs';

// `npm start`'s entry. It says something at once, then loads the stack: importing the subgraphs,
// the gateway and PGlite takes a few seconds, and a silent terminal looks stuck.

/** `<NAME>_PORT default` of each subgraph of rover.yaml, in its order (4001, 4002, …). */
const ports = subgraphsOf()
  .map((s, i) => `${s.envPrefix}_PORT ${4001 + i}`)
  .join(', ');

const HELP = `Usage: npm start

Starts the whole customer-to-cash stack in one process: the gateway on PORT and each subgraph of
rover.yaml on <NAME>_PORT (${ports}), on the
embedded PostgreSQL (PGlite) in DATA_DIR, or on the server in DATABASE_URL. On an empty book it
seeds the demo data first through the gateway (SEED_CUSTOMERS, default 240, about 2 minutes;
SEED=false to skip); /readyz answers 503 "seeding" until it is complete, and a seed that was
interrupted is finished by the next start. In development the gateway also serves GraphiQL at
/graphiql. Configuration is by environment; see README.md.
Bookkeeping rows are pruned hourly: RETENTION_IDEMPOTENCY_HOURS (48), RETENTION_OUTBOX_DAYS (7),
RETENTION_INBOX_DAYS (30), RETENTION_BUS_DAYS (7), RETENTION_AUDIT_DAYS (400), RETENTION_INTERVAL_S
(3600; 0 = off); see docs/operations.md.
C2C_FAULT_POINT=<point> is for fault tests only: the process SIGKILLs itself there (docs/faults.md).`;

let help = false;
try {
  help = parseArgs({ options: { help: { type: 'boolean', short: 'h', default: false } } }).values.help;
} catch (error) {
  console.error(`${(error as Error).message}\n\n${HELP}`);
  process.exit(2);
}
if (help) {
  console.log(HELP);
} else {
  console.log('Starting the customer-to-cash stack (loading modules)…');
  const { main, failed } = await import('./run.ts');
  await main().catch(failed);
}
