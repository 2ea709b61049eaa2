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

/**
 * A seeded source of randomness for tests that draw (jitter, random subsets): the same seed draws
 * the same numbers, so a failure can be replayed. `TEST_SEED=<n>` sets it, `TEST_SEED=random` draws
 * one; the seed in use is logged with the test's name.
 */
export function seededRandom(name: string, defaultSeed = 2024): () => number {
  const requested = process.env.TEST_SEED;
  const seed =
    requested === 'random'
      ? Math.floor(Math.random() * 2 ** 31)
      : requested
        ? Number.parseInt(requested, 10)
        : defaultSeed;
  if (!Number.isSafeInteger(seed)) throw new Error('TEST_SEED must be a whole number or "random"');
  console.info(`${name}: TEST_SEED=${seed}`);
  // mulberry32: small, fast, good enough to spread test timings and subsets.
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
