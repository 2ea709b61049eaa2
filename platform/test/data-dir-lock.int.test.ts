import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../src/db/data-dir-lock.ts';

// Issue 20 (h): two processes starting together on a data directory whose lock names a dead
// process (what every SIGKILL leaves) must not both get it.

const run = promisify(execFile);
const base = mkdtempSync(join(tmpdir(), 'c2c-lock-race-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('the data-directory lock', () => {
  it('is held by exactly one of two processes racing for a directory a dead process had locked', async () => {
    const rounds = 60;
    const roundMs = 150;
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    for (let round = 0; round < rounds; round++) {
      mkdirSync(join(base, String(round)), { recursive: true });
      writeFileSync(join(base, String(round), 'c2c.lock'), String(dead));
    }
    // Both racers load first; the rounds start together once both surely run.
    const start = Date.now() + 6_000;
    const racer = join(import.meta.dirname, 'data-dir-lock-racer.ts');
    const args = ['--import', 'tsx', racer, base, String(rounds), String(start), String(roundMs)];
    const outputs = await Promise.all([run(process.execPath, args), run(process.execPath, args)]);
    const results = outputs.map(({ stdout }) =>
      Object.fromEntries(
        stdout
          .trim()
          .split('\n')
          .map((line) => line.split(' ') as [string, string]),
      ),
    );
    const both = [];
    const none = [];
    for (let round = 0; round < rounds; round++) {
      const got = results.filter((r) => r[String(round)] === 'ok').length;
      if (got === 2) both.push(round);
      if (got === 0) none.push(round);
    }
    expect(both, 'rounds where both processes got the lock').toEqual([]);
    expect(none, 'rounds where neither got it').toEqual([]);
  }, 60_000);

  it('refuses a second holder in the same process tree and is free again after release', async () => {
    const dir = join(base, 'single');
    const unlock = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toThrow(/in use by process/);
    unlock();
    const again = await lockDataDir(dir);
    again();
  });
});
