import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time (user + system, ms) per process group, read from /proc: what a run cost each part of the
 * system. `classify` names the group of a process from its command line (null: not counted).
 * Processes that exit between two snapshots lose their share, so it is meant for long-lived ones
 * (services, database backends of a pool, the NATS server). Empty where /proc does not exist.
 */
export function cpuSnapshot(
  classify: (commandLine: string, pid: number) => string | null,
): Map<string, number> {
  const totals = new Map<string, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return totals;
  }
  const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
  for (const pid of pids) {
    try {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const group = classify(commandLine, Number(pid));
      if (!group) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      totals.set(group, (totals.get(group) ?? 0) + ticks / ticksPerMs);
    } catch {
      // gone meanwhile
    }
  }
  return totals;
}

/** CPU ms per unit of work between two snapshots, per group, plus `total`. */
export function cpuPerUnit(
  before: Map<string, number>,
  after: Map<string, number>,
  units: number,
): Record<string, number> {
  const result: Record<string, number> = {};
  let total = 0;
  for (const [group, ms] of [...after].sort(([a], [b]) => a.localeCompare(b))) {
    const spent = ms - (before.get(group) ?? 0);
    if (spent <= 0) continue;
    result[group] = Math.round((spent / units) * 10) / 10;
    total += spent;
  }
  result.total = Math.round((total / units) * 10) / 10;
  return result;
}
