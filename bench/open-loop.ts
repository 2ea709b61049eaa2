/**
 * The arithmetic of an open-loop (fixed arrival rate) run: pure, so it is unit tested. An open
 * loop starts work on a schedule whatever the system answers, so a slow system meets the same
 * arrivals as a fast one and its queueing shows in the latencies (counted from each scheduled
 * start); a closed loop of agents instead slows its own arrivals down, and hides the queueing
 * (coordinated omission).
 */

/**
 * Start times, in ms after the run's start, of `ratePerSecond` arrivals a second for `seconds`:
 * evenly spaced (arrival i at i ÷ rate), the last one before `seconds` ends. Absolute offsets, so
 * a late timer never shifts the arrivals after it.
 */
export function arrivalSchedule(ratePerSecond: number, seconds: number): number[] {
  if (!(ratePerSecond > 0) || !(seconds > 0)) return [];
  const interval = 1000 / ratePerSecond;
  const count = Math.ceil(ratePerSecond * seconds - 1e-9);
  return Array.from({ length: count }, (_, i) => i * interval);
}

/**
 * The rate the system kept up, from the times work finished: (n − 1) completions over the span
 * from the first to the last. Arrivals spaced 1 ÷ rate apart that each take the same time finish
 * 1 ÷ rate apart, so a sustained rate gives back the offered one; a backlog that grows pushes the
 * last completions out and the rate down. Unlike n ÷ (last − start), it does not count the first
 * arrival's latency as lost time. Null for fewer than two completions.
 */
export function completionRate(completedAt: readonly number[]): number | null {
  if (completedAt.length < 2) return null;
  let first = Infinity;
  let last = -Infinity;
  for (const t of completedAt) {
    if (t < first) first = t;
    if (t > last) last = t;
  }
  if (last === first) return null;
  return ((completedAt.length - 1) * 1000) / (last - first);
}

/** Whether an offered rate was sustained: every arrival completed and at ≥ `tolerance` of the rate. */
export function sustained(
  offeredPerSecond: number,
  achievedPerSecond: number | null,
  scheduled: number,
  completed: number,
  tolerance = 0.95,
): boolean {
  return (
    achievedPerSecond !== null && completed === scheduled && achievedPerSecond >= tolerance * offeredPerSecond
  );
}
