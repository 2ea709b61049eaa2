import { lockDataDir } from '../src/db/data-dir-lock.ts';

// One racer of data-dir-lock.int.test.ts: for each round, waits (busy, for precision) until the
// round's start, tries to lock the round's directory, holds what it got until the round ends, and
// prints `round ok|refused`.
const [base, rounds, start, roundMs] = process.argv
  .slice(2)
  .map((value, i) => (i === 0 ? value : Number(value))) as [string, number, number, number];
for (let round = 0; round < rounds; round++) {
  const at = start + round * roundMs;
  while (Date.now() < at) {
    // spin
  }
  let unlock: (() => void) | null = null;
  try {
    unlock = await lockDataDir(`${base}/${round}`);
  } catch {
    unlock = null;
  }
  process.stdout.write(`${round} ${unlock ? 'ok' : 'refused'}\n`);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at + roundMs * 0.8 - Date.now())));
  unlock?.();
}
