import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { subgraphsOf } from '@c2c/schema/subgraphs';
import { GATEWAY_HELP, UsageError, type Command } from './lib/command.ts';

/** Registered subcommands, loaded lazily so one command's dependencies do not slow the others. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {};

/** Adds a subcommand; called from this file only, so `--help` lists everything in one place. */
function register(name: string, summary: string, load: () => Promise<Command>): void {
  COMMANDS[name] = { summary, load };
}

register(
  'dead-letters',
  'list dead letters of every system',
  async () => (await import('./commands/dead-letters.ts')).deadLetters,
);
register(
  'replay',
  'replay dead letters of one system (exactly once)',
  async () => (await import('./commands/dead-letters.ts')).replay,
);
register(
  'safelist',
  'compile schema/operations into the persisted query manifest',
  async () => (await import('./commands/safelist.ts')).command,
);
register(
  'reconcile',
  'reconcile billing, ERP and CRM: control totals, then the exact documents and contract values that differ',
  async () => (await import('./commands/reconcile.ts')).command,
);
register(
  'token',
  'print a development JWT for a role',
  async () => (await import('./commands/token.ts')).command,
);
register(
  'db',
  '`db setup`: prepare PostgreSQL with one schema and one role per subgraph',
  async () => (await import('./commands/db.ts')).command,
);
register(
  'schema',
  'schema governance: `schema check` runs the offline Rover-like checks',
  async () => (await import('./commands/schema.ts')).command,
);

register(
  'demo',
  'development: `demo exception` leaves an amendment in EXCEPTION with a dead letter for the console to replay',
  async () => (await import('./commands/demo.ts')).command,
);

/**
 * Commands a subgraph contributes: by convention its package's `src/commands.ts` (next to
 * `src/index.ts`) exports `commands` (name → summary and run). Nothing names a subgraph here.
 */
interface SubgraphCommand {
  summary: string;
  run(argv: string[], env: Readonly<Record<string, string | undefined>>): Promise<number>;
}
async function registerSubgraphCommands(): Promise<void> {
  for (const info of subgraphsOf()) {
    const file = join(info.dir, 'src', 'commands.ts');
    if (!existsSync(file)) continue;
    const { commands } = (await import(pathToFileURL(file).href)) as {
      commands?: Record<string, SubgraphCommand>;
    };
    for (const [name, command] of Object.entries(commands ?? {})) {
      if (COMMANDS[name]) throw new Error(`${file}: command ${name} is already registered`);
      register(name, command.summary, async () => ({
        name,
        summary: command.summary,
        usage: command.summary,
        run: (argv) => command.run(argv, process.env),
      }));
    }
  }
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return `Usage: npm run c2c -- <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run \`npm run c2c -- <command> --help\` for a command's options.

${GATEWAY_HELP}

Exit codes: 0 done, 1 failed (or differences found), 2 usage error.`;
}

async function main(argv: string[]): Promise<number> {
  await registerSubgraphCommands();
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 2;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const command = await entry.load();
  try {
    return await command.run(rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
