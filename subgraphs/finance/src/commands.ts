// The operator commands this subgraph adds to `npm run c2c` (found by convention, like
// `buildSubgraph` in index.ts): metadata here, the code loaded only when the command runs.

/** A `npm run c2c -- <name> …` command contributed by a subgraph: returns the exit code. */
export interface SubgraphCommand {
  summary: string;
  run(argv: string[], env: Readonly<Record<string, string | undefined>>): Promise<number>;
}

const ERP_USAGE = `Usage: npm run c2c -- erp setup [options]   (--help for its options)

ERP commands:
  setup   prepare an empty Tryton database for ERP_ADAPTER=tryton (idempotent)`;

export const commands: Record<string, SubgraphCommand> = {
  erp: {
    summary: '`erp setup`: prepare a Tryton database for the ERP adapter (ERP_ADAPTER=tryton)',
    run: async (argv, env) => {
      const [sub, ...rest] = argv;
      if (sub === 'setup') return (await import('./ports/tryton/setup-command.ts')).erpSetup(rest, env);
      if (sub === '--help' || sub === '-h') {
        console.log(ERP_USAGE);
        return 0;
      }
      console.error(`${sub ? `unknown erp command "${sub}"` : 'an erp command is required'}\n\n${ERP_USAGE}`);
      return 2;
    },
  },
};
