import { describe, expect, it } from 'vitest';
import {
  medianResult,
  parseBenchArgs,
  rotation,
  SYSTEMS,
  percentile,
  readRatios,
  slope,
  throughputRatio,
  type LoadResult,
} from '../report.ts';

const load = (requestsPerSecond: number): LoadResult => ({
  requestsPerSecond,
  p50Ms: 1,
  p99Ms: 2,
  requests: 100,
  errors: 0,
  cpuMsPerRequest: 1,
  subgraphCpuMsPerRequest: null,
  subgraphRequestsPerOperation: null,
  sqlQueriesPerOperation: null,
});

describe('parseBenchArgs', () => {
  it('defaults to every section, PGlite, a full run and no JSON', () => {
    expect(parseBenchArgs([], {})).toEqual({
      ok: true,
      args: {
        quick: false,
        json: false,
        help: false,
        only: ['reads', 'cached', 'writes', 'billing', 'scale', 'usage', 'erp', 'micro'],
        databaseUrl: null,
      },
    });
  });

  it('reads --quick, --json, --only with commas or repeated, and --database-url in both spellings', () => {
    const parsed = parseBenchArgs(
      ['--quick', '--json', '--only', 'writes,reads', '--only=writes', '--database-url=postgres://h/db'],
      {},
    );
    expect(parsed).toEqual({
      ok: true,
      args: {
        quick: true,
        json: true,
        help: false,
        only: ['writes', 'reads'],
        databaseUrl: 'postgres://h/db',
      },
    });
  });

  it('takes the billing run as a section of its own', () => {
    const parsed = parseBenchArgs(['--quick', '--only', 'billing', '--json'], {});
    expect(parsed.ok && parsed.args.only).toEqual(['billing']);
  });

  it('falls back to DATABASE_URL, and the flag wins over it', () => {
    const fromEnv = parseBenchArgs([], { DATABASE_URL: 'postgresql://env/db' });
    expect(fromEnv.ok && fromEnv.args.databaseUrl).toBe('postgresql://env/db');
    const flag = parseBenchArgs(['--database-url', 'postgres://flag/db'], {
      DATABASE_URL: 'postgres://env/db',
    });
    expect(flag.ok && flag.args.databaseUrl).toBe('postgres://flag/db');
  });

  it('refuses unknown arguments, unknown sections and URLs that are not PostgreSQL', () => {
    expect(parseBenchArgs(['--fast'], {})).toEqual({ ok: false, error: 'unknown argument --fast' });
    expect(parseBenchArgs(['--only', 'soak'], {}).ok).toBe(false);
    expect(parseBenchArgs(['--only'], {}).ok).toBe(false);
    expect(parseBenchArgs(['--database-url', 'mysql://x'], {}).ok).toBe(false);
    expect(parseBenchArgs([], { DATABASE_URL: 'http://x' }).ok).toBe(false);
  });

  it('sees --help', () => {
    const parsed = parseBenchArgs(['-h'], {});
    expect(parsed.ok && parsed.args.help).toBe(true);
  });
});

describe('ratios', () => {
  it('are the geometric mean over operations of ours / theirs', () => {
    const results = {
      CustomerToCash: { ours: load(200), apolloGateway: load(100), hiveGateway: load(200), floor: load(400) },
      Customers: { ours: load(800), apolloGateway: load(100), hiveGateway: load(200), floor: load(400) },
    };
    // √(2 × 8) = 4; √(1 × 4) = 2; √(0.5 × 2) = 1.
    expect(readRatios(results)).toEqual({
      oursOverApolloGateway: 4,
      oursOverHiveGateway: 2,
      oursOverFloor: 1,
    });
  });

  it('are null when a system failed or was not run', () => {
    expect(
      throughputRatio({ CustomerToCash: { ours: load(100), hiveGateway: null } }, 'hiveGateway'),
    ).toBeNull();
    expect(throughputRatio({ CustomerToCash: { ours: load(100) } }, 'floor')).toBeNull();
    expect(throughputRatio({}, 'floor')).toBeNull();
  });
});

describe('percentile and slope', () => {
  it('take the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it('fits a least-squares line', () => {
    expect(
      slope([
        { x: 0, y: 100 },
        { x: 1, y: 102 },
        { x: 2, y: 104 },
      ]),
    ).toBe(2);
    expect(slope([{ x: 0, y: 1 }])).toBeNull();
  });
});

describe('the fair read harness: rounds', () => {
  it('rotate the systems by one place per round, so each runs in each position once', () => {
    const orders = SYSTEMS.map((_, round) => rotation(SYSTEMS, round));
    for (const order of orders) expect([...order].sort()).toEqual([...SYSTEMS].sort());
    for (let position = 0; position < SYSTEMS.length; position++)
      expect(new Set(orders.map((o) => o[position])).size).toBe(SYSTEMS.length);
    expect(rotation(SYSTEMS, 0)).toEqual(SYSTEMS);
    expect(rotation(SYSTEMS, SYSTEMS.length)).toEqual(SYSTEMS);
  });

  it('combine into the median of each figure over the measured rounds, counts summed', () => {
    const a = { ...load(100), subgraphCpuMsPerRequest: 3, p99Ms: 10 };
    const b = { ...load(300), subgraphCpuMsPerRequest: 1, p99Ms: 30, errors: 2 };
    const c = { ...load(200), subgraphCpuMsPerRequest: 2, p99Ms: 20 };
    expect(medianResult([a, b, c])).toMatchObject({
      requestsPerSecond: 200,
      subgraphCpuMsPerRequest: 2,
      p99Ms: 20,
      requests: 300,
      errors: 2,
      sqlQueriesPerOperation: null,
    });
    // Two rounds: the mean of the middle two; a failed round is left out; none measured is null.
    expect(medianResult([a, null, b])?.requestsPerSecond).toBe(200);
    expect(medianResult([null, undefined])).toBeNull();
  });
});
