import { parseArgs } from 'node:util';
import type { Command } from '../lib/command.ts';

const USAGE = `Usage: npm run schema:check -- [options]
       npm run c2c -- schema check [options]

Checks the supergraph offline, like Rover's checks: composes the subgraphs of rover.yaml with
@apollo/composition and runs, in order,
  Build            composition errors and hints (subgraph and line); the committed
                   schema/supergraph.graphql must be exactly this composition
  Breaking Change  the API schema against the baseline, with Rover's change codes; a breaking
                   change that a registered operation (schema/operations/) uses fails
  Operation        every registered operation validates against the new API schema
  Ownership        schema/ownership.yaml: who owns which entity, field and mutation
  Linter           descriptions, naming, no Float, connections, @deprecated reasons
  Event Contract   schema/events/: the catalog is consistent, every schema compiles and its
                   examples match, docs/events.md is current; a field removed, renamed or
                   widened (or an event type removed) since the baseline fails, naming its consumers

Options:
  --base FILE|REV         baseline supergraph: a file, or a git revision whose committed
                          schema/supergraph.graphql is used (default: origin/main if it exists, else HEAD)
  --events-base DIR       event contracts to compare with (default: schema/events/ at the baseline
                          revision; none when --base is a file)
  --subgraph NAME         with --schema: check a proposed schema for one subgraph (like
  --schema FILE           \`rover subgraph check\`), replacing rover.yaml's file for NAME
  --config FILE           Rover supergraph config (default: rover.yaml)
  --json                  print the report as JSON
  -h, --help              this help

Exit codes: 0 passed (warnings allowed), 1 a check failed, 2 usage error.
How to read the output and act on it: docs/governance.md.`;

async function check(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        base: { type: 'string' },
        'events-base': { type: 'string' },
        subgraph: { type: 'string' },
        schema: { type: 'string' },
        config: { type: 'string' },
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
  if (Boolean(values.subgraph) !== Boolean(values.schema)) {
    console.error(`--subgraph and --schema go together\n\n${USAGE}`);
    return 2;
  }
  // Loaded here so that `--help` and usage errors answer at once.
  const { runSchemaCheck, UsageError } = await import('../../schema/src/check/index.ts');
  const { formatJson, formatText } = await import('../../schema/src/check/report.ts');
  try {
    const report = await runSchemaCheck({
      root: process.cwd(),
      ...(values.config ? { config: values.config } : {}),
      ...(values.base ? { base: values.base } : {}),
      ...(values['events-base'] ? { eventsBase: values['events-base'] } : {}),
      ...(values.subgraph && values.schema
        ? { proposed: { subgraph: values.subgraph, file: values.schema } }
        : {}),
    });
    console.log(values.json ? formatJson(report) : formatText(report));
    return report.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\nRun with --help for the options.`);
      return 2;
    }
    throw error;
  }
}

async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'check') return check(rest);
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  console.error(`unknown schema subcommand "${sub}"\n\n${USAGE}`);
  return 2;
}

export const command: Command = {
  name: 'schema',
  summary:
    'schema governance: `schema check` composes and runs the build, breaking-change, operation, ownership and lint checks',
  usage: USAGE,
  run,
};
