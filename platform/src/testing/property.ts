/**
 * Settings for property-based tests: a fixed seed by default, so CI runs are repeatable;
 * `FC_SEED=<n>` replays a run, `FC_SEED=random` draws a new seed (logged, to replay a failure),
 * `FC_RUNS=<n>` runs longer than `defaultRuns`.
 */
export function propertySettings(defaultRuns: number, defaultSeed = 1414): { seed: number; numRuns: number } {
  const requested = process.env.FC_SEED;
  const seed =
    requested === 'random'
      ? Math.floor(Math.random() * 2 ** 31)
      : requested
        ? Number.parseInt(requested, 10)
        : defaultSeed;
  const numRuns = process.env.FC_RUNS ? Number.parseInt(process.env.FC_RUNS, 10) : defaultRuns;
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(numRuns) || numRuns < 1) {
    throw new Error(`FC_SEED must be a whole number or "random", FC_RUNS a positive whole number`);
  }
  if (requested === 'random' || process.env.FC_RUNS) {
    console.info(`property tests: FC_SEED=${seed} FC_RUNS=${numRuns}`);
  }
  return { seed, numRuns };
}
