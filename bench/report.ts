/** Argument parsing, the result shapes, the ratios and their printing: pure, so they are unit tested. */

export type Section = 'reads' | 'cached' | 'writes' | 'billing' | 'scale' | 'usage' | 'erp' | 'micro';
export const SECTIONS: readonly Section[] = [
  'reads',
  'cached',
  'writes',
  'billing',
  'scale',
  'usage',
  'erp',
  'micro',
];

export interface BenchArgs {
  quick: boolean;
  json: boolean;
  help: boolean;
  only: Section[];
  databaseUrl: string | null;
}

export type ParsedArgs = { ok: true; args: BenchArgs } | { ok: false; error: string };

/** Parses `npm run bench -- …` arguments; `DATABASE_URL` is the fallback of `--database-url`. */
export function parseBenchArgs(argv: readonly string[], env: Record<string, string | undefined>): ParsedArgs {
  const args: BenchArgs = { quick: false, json: false, help: false, only: [], databaseUrl: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag = '', inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg];
    const value = () => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) return undefined;
      i++;
      return next;
    };
    switch (flag) {
      case '--quick':
        args.quick = true;
        break;
      case '--json':
        args.json = true;
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      case '--only': {
        const given = value();
        if (!given) return { ok: false, error: `--only needs one of ${SECTIONS.join(', ')}` };
        for (const part of given.split(',')) {
          if (!SECTIONS.includes(part as Section))
            return { ok: false, error: `--only: unknown section "${part}" (${SECTIONS.join(', ')})` };
          if (!args.only.includes(part as Section)) args.only.push(part as Section);
        }
        break;
      }
      case '--database-url': {
        const given = value();
        if (!given || !/^postgres(ql)?:\/\//.test(given))
          return { ok: false, error: '--database-url needs a postgres:// URL' };
        args.databaseUrl = given;
        break;
      }
      default:
        return { ok: false, error: `unknown argument ${arg}` };
    }
  }
  if (args.databaseUrl === null && env.DATABASE_URL) {
    if (!/^postgres(ql)?:\/\//.test(env.DATABASE_URL))
      return { ok: false, error: 'DATABASE_URL must be a postgres:// URL' };
    args.databaseUrl = env.DATABASE_URL;
  }
  if (args.only.length === 0) args.only = [...SECTIONS];
  return { ok: true, args };
}

/** One load run against one system under test. */
export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  /** CPU seconds of the system under test's process per request, in milliseconds. */
  cpuMsPerRequest: number | null;
  /** CPU of the shared subgraph process per request, in milliseconds (null: not in the path). */
  subgraphCpuMsPerRequest: number | null;
  /** HTTP requests the subgraphs received per operation (null: no subgraphs in the path). */
  subgraphRequestsPerOperation: number | null;
  /** SQL statements executed per operation. */
  sqlQueriesPerOperation: number | null;
}

export type SystemName = 'ours' | 'apolloGateway' | 'hiveGateway' | 'floor';
export const SYSTEMS: readonly SystemName[] = ['ours', 'apolloGateway', 'hiveGateway', 'floor'];

/** operation → system → result (null when that system could not be measured). */
export type ReadResults = Record<string, Partial<Record<SystemName, LoadResult | null>>>;

/** The systems in the order of round `round`: rotated by one place per round. */
export function rotation<T>(items: readonly T[], round: number): T[] {
  const n = items.length;
  if (n === 0) return [];
  const shift = ((round % n) + n) % n;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

const medianOf = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/**
 * One result from several rounds of the same run: the median of each figure over the rounds that
 * were measured (null when none was); `requests` and `errors` are summed.
 */
export function medianResult(rounds: readonly (LoadResult | null | undefined)[]): LoadResult | null {
  const measured = rounds.filter((r): r is LoadResult => !!r);
  if (measured.length === 0) return null;
  const field = (key: keyof LoadResult): number | null => {
    const values = measured.map((r) => r[key]).filter((v): v is number => typeof v === 'number');
    return values.length ? medianOf(values) : null;
  };
  return {
    requestsPerSecond: field('requestsPerSecond') as number,
    p50Ms: field('p50Ms') as number,
    p99Ms: field('p99Ms') as number,
    requests: measured.reduce((sum, r) => sum + r.requests, 0),
    errors: measured.reduce((sum, r) => sum + r.errors, 0),
    cpuMsPerRequest: field('cpuMsPerRequest'),
    subgraphCpuMsPerRequest: field('subgraphCpuMsPerRequest'),
    subgraphRequestsPerOperation: field('subgraphRequestsPerOperation'),
    sqlQueriesPerOperation: field('sqlQueriesPerOperation'),
  };
}

export interface ReadRatios {
  oursOverApolloGateway: number | null;
  oursOverHiveGateway: number | null;
  oursOverFloor: number | null;
}

/** Geometric mean of the per-operation throughput ratios ours/other; null when any side is missing. */
export function throughputRatio(results: ReadResults, other: SystemName): number | null {
  const ratios: number[] = [];
  for (const bySystem of Object.values(results)) {
    const ours = bySystem.ours?.requestsPerSecond;
    const theirs = bySystem[other]?.requestsPerSecond;
    if (!ours || !theirs) return null;
    ratios.push(ours / theirs);
  }
  if (ratios.length === 0) return null;
  return round(Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length), 3);
}

export function readRatios(results: ReadResults): ReadRatios {
  return {
    oursOverApolloGateway: throughputRatio(results, 'apolloGateway'),
    oursOverHiveGateway: throughputRatio(results, 'hiveGateway'),
    oursOverFloor: throughputRatio(results, 'floor'),
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** p-th percentile (0–100) of values by nearest rank; null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Least-squares slope of y over x (e.g. MiB per minute); null for fewer than two points. */
export function slope(points: readonly { x: number; y: number }[]): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (sxx === 0) return null;
  return points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
}

/** A fixed-width text table. */
export function table(header: string[], rows: (string | number | null)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null ? '—' : String(c))));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export function loadRows(results: ReadResults): (string | number | null)[][] {
  const rows: (string | number | null)[][] = [];
  for (const [operation, bySystem] of Object.entries(results)) {
    for (const system of SYSTEMS) {
      if (!(system in bySystem)) continue;
      const r = bySystem[system];
      rows.push(
        r
          ? [
              `${operation} · ${system}`,
              round(r.requestsPerSecond, 1),
              round(r.p50Ms, 1),
              round(r.p99Ms, 1),
              r.cpuMsPerRequest === null ? null : round(r.cpuMsPerRequest, 2),
              r.subgraphCpuMsPerRequest === null ? null : round(r.subgraphCpuMsPerRequest, 2),
              r.subgraphRequestsPerOperation === null ? null : round(r.subgraphRequestsPerOperation, 2),
              r.sqlQueriesPerOperation === null ? null : round(r.sqlQueriesPerOperation, 2),
              r.errors,
            ]
          : [`${operation} · ${system}`, null, null, null, null, null, null, null, 'failed'],
      );
    }
  }
  return rows;
}

export const LOAD_HEADER = [
  'operation · system',
  'req/s',
  'p50 ms',
  'p99 ms',
  'CPU ms/req',
  'subgraphs CPU ms/req',
  'subgraph reqs/op',
  'SQL/op',
  'errors',
];
