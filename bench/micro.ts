import { randomBytes } from 'node:crypto';
import { createAuthenticator } from '@c2c/gateway';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  devIssuer,
  NonceCache,
  signRequest,
  verifyRequest,
} from '@c2c/platform/auth';
import { round } from './report.ts';

// In-process micro-benchmarks of per-request costs on the hot path, each compared with itself
// under a different load (so the figure is a ratio in one run, not a timing).

export interface MicroOptions {
  quick: boolean;
  log: (line: string) => void;
}

export interface NonceCacheReport {
  /** Entries held while measuring (steady state: each request adds one and expires one). */
  sizes: [number, number];
  /** Median ns per `claim` at each size. */
  claimNs: [number, number];
  /**
   * The floor: a bare Set of the same size, one add, one lookup and one delete of the oldest per
   * request (what any hash-based replay check must do), median ns at each size.
   */
  floorNs: [number, number];
  /** Median µs per signed request verified (`verifyRequest`: HMAC, body hash, claim) at each size. */
  verifyUs: [number, number];
  /** Cost at the large size ÷ cost at the small one (1 = no dependence on size). */
  claimRatio: number;
  verifyRatio: number;
  /** Ours ÷ the floor at the large size. */
  claimOverFloorAtLarge: number;
  rounds: number;
}

export interface TokenVerificationReport {
  /** Distinct tokens (principals) the requests rotate through. */
  principals: number;
  /** Median µs per request to authenticate a bearer token: every request verified (ES256)… */
  uncachedUs: number;
  /** …and with the verified-token cache (each token verified once, then hits). */
  cachedUs: number;
  /** uncached ÷ cached. */
  speedup: number;
  rounds: number;
}

export interface MicroReport {
  nonceCache: NonceCacheReport;
  tokenVerification: TokenVerificationReport;
}

/** `n` random 16-byte nonces in base64url, as the gateway makes them. */
function randomNonces(n: number): string[] {
  const bytes = randomBytes(16 * n);
  return Array.from({ length: n }, (_, i) => bytes.subarray(16 * i, 16 * i + 16).toString('base64url'));
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

const SECRET = randomBytes(32).toString('hex');
const IDENTITY = { sub: 'bench', role: 'admin', scopes: ['c2c:read'] };
const BODY = JSON.stringify({ query: '{ _entities { __typename } }', variables: { representations: [] } });

/**
 * One measurement at `size` held nonces: a cache whose window is `size` ms of simulated time,
 * filled with one nonce per ms, then `requests` more at one per ms, so that every request expires
 * exactly one entry and the cache holds `size` throughout. Returns ns per claim.
 */
function claimCost(size: number, requests: number): number {
  const nonces = new NonceCache(size, 10 * size);
  const keys = randomNonces(size + requests);
  for (let t = 0; t < size; t++) nonces.claim(keys[t] as string, t);
  const started = process.hrtime.bigint();
  for (let t = size; t < size + requests; t++) {
    if (!nonces.claim(keys[t] as string, t)) throw new Error('a fresh nonce was refused');
  }
  const ns = Number(process.hrtime.bigint() - started) / requests;
  if (nonces.size !== size) throw new Error(`the cache held ${nonces.size}, not ${size}`);
  return ns;
}

/** The floor at `size`: a bare Set, the oldest key deleted and a new one looked up and added per request. */
function floorCost(size: number, requests: number): number {
  const held = new Set<string>();
  const keys = randomNonces(size + requests);
  for (let t = 0; t < size; t++) held.add(keys[t] as string);
  const started = process.hrtime.bigint();
  for (let t = size; t < size + requests; t++) {
    held.delete(keys[t - size] as string);
    if (held.has(keys[t] as string)) throw new Error('a fresh key was held');
    held.add(keys[t] as string);
  }
  return Number(process.hrtime.bigint() - started) / requests;
}

/** The same with whole signed requests through `verifyRequest`; returns µs per request. */
function verifyCost(size: number, requests: number): number {
  const nonces = new NonceCache(size, 10 * size);
  const keys = randomNonces(size);
  for (let t = 0; t < size; t++) nonces.claim(keys[t] as string, t);
  const signed = Array.from({ length: requests }, (_, i) =>
    signRequest(SECRET, { method: 'POST', body: BODY, identity: IDENTITY }, size + i),
  );
  const started = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) {
    const verdict = verifyRequest(
      SECRET,
      { method: 'POST', body: BODY, headers: signed[i] as Record<string, string> },
      nonces,
      size + i,
    );
    if (!verdict.ok) throw new Error(`a signed request was refused: ${verdict.reason}`);
  }
  return Number(process.hrtime.bigint() - started) / requests / 1000;
}

/** Per-request cost of the subgraphs' nonce cache at 1,000 and 150,000 held nonces, alternating. */
export function runNonceCache(options: MicroOptions): NonceCacheReport {
  const sizes: [number, number] = [1_000, 150_000];
  const rounds = options.quick ? 3 : 7;
  const claims = options.quick ? 100_000 : 300_000;
  const verifies = options.quick ? 10_000 : 30_000;
  const claimNs: [number[], number[]] = [[], []];
  const floorNs: [number[], number[]] = [[], []];
  const verifyUs: [number[], number[]] = [[], []];
  claimCost(sizes[0], claims); // JIT warm-up, not counted
  for (let r = 0; r < rounds; r++) {
    // Alternate which size goes first, so neither always runs on a warmer or colder heap.
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      claimNs[i as 0 | 1].push(claimCost(sizes[i as 0 | 1], claims));
      floorNs[i as 0 | 1].push(floorCost(sizes[i as 0 | 1], claims));
      verifyUs[i as 0 | 1].push(verifyCost(sizes[i as 0 | 1], verifies));
    }
  }
  const claim: [number, number] = [median(claimNs[0]), median(claimNs[1])];
  const verify: [number, number] = [median(verifyUs[0]), median(verifyUs[1])];
  const floor: [number, number] = [median(floorNs[0]), median(floorNs[1])];
  const report: NonceCacheReport = {
    sizes,
    claimNs: [round(claim[0], 1), round(claim[1], 1)],
    floorNs: [round(floor[0], 1), round(floor[1], 1)],
    verifyUs: [round(verify[0], 2), round(verify[1], 2)],
    claimRatio: round(claim[1] / claim[0], 2),
    verifyRatio: round(verify[1] / verify[0], 2),
    claimOverFloorAtLarge: round(claim[1] / floor[1], 2),
    rounds,
  };
  options.log(
    `micro: nonce cache ${report.claimNs[0]} ns vs ${report.claimNs[1]} ns per claim (${report.claimRatio}×)`,
  );
  return report;
}

/**
 * The gateway's bearer-token check per request, for requests from `principals` distinct tokens in
 * turn: with the verified-token cache off (ES256 on every request) and on, alternating.
 */
export async function runTokenVerification(options: MicroOptions): Promise<TokenVerificationReport> {
  const principals = 100;
  const rounds = options.quick ? 3 : 7;
  const requests = options.quick ? 2_000 : 5_000;
  // An in-memory development issuer: ES256, as a production issuer's tokens usually are.
  const issuer = await devIssuer(null);
  const config = {
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    jwks: issuer.jwks,
    algorithms: ['ES256'],
    clockToleranceSeconds: 30,
  };
  const headers = await Promise.all(
    Array.from({ length: principals }, (_, i) =>
      issuer.mint({ role: 'portal', subject: `bench-${i}`, ttlSeconds: 3600 }).then((t) => `Bearer ${t}`),
    ),
  );
  const cost = async (cacheSize: number) => {
    // A new authenticator each round: the cached side pays its first verification of every token.
    const authenticate = createAuthenticator({ ...config, verifiedTokenCacheSize: cacheSize });
    const started = process.hrtime.bigint();
    for (let i = 0; i < requests; i++) {
      const result = await authenticate(headers[i % principals]);
      if (!result.ok) throw new Error(`a bench token was refused: ${result.reason}`);
    }
    return Number(process.hrtime.bigint() - started) / requests / 1000;
  };
  await cost(0); // JIT warm-up, not counted
  const uncached: number[] = [];
  const cached: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      uncached.push(await cost(0));
      cached.push(await cost(10_000));
    } else {
      cached.push(await cost(10_000));
      uncached.push(await cost(0));
    }
  }
  const report: TokenVerificationReport = {
    principals,
    uncachedUs: round(median(uncached), 2),
    cachedUs: round(median(cached), 2),
    speedup: round(median(uncached) / median(cached), 1),
    rounds,
  };
  options.log(
    `micro: token verification ${report.uncachedUs} µs uncached vs ${report.cachedUs} µs cached (${report.speedup}×)`,
  );
  return report;
}

export async function runMicro(options: MicroOptions): Promise<MicroReport> {
  return { nonceCache: runNonceCache(options), tokenVerification: await runTokenVerification(options) };
}

export function microLines(report: MicroReport): string[] {
  const n = report.nonceCache;
  const t = report.tokenVerification;
  const size = (v: number) => v.toLocaleString('en');
  return [
    `Micro: the subgraphs' nonce cache, per request at ${size(n.sizes[0])} and ${size(n.sizes[1])} held nonces (median of ${n.rounds} alternating rounds)`,
    [
      `  claim alone: ${n.claimNs[0]} ns vs ${n.claimNs[1]} ns (${n.claimRatio}×)`,
      `  floor (a bare Set: delete the oldest, look up, add): ${n.floorNs[0]} ns vs ${n.floorNs[1]} ns; ours ÷ floor at ${size(n.sizes[1])}: ${n.claimOverFloorAtLarge}×`,
      `  whole signed request (verifyRequest): ${n.verifyUs[0]} µs vs ${n.verifyUs[1]} µs (${n.verifyRatio}×)`,
    ].join('\n'),
    '',
    `Micro: the gateway's bearer-token check, requests from ${t.principals} tokens in turn (median of ${t.rounds} alternating rounds)`,
    `  every request verified (ES256): ${t.uncachedUs} µs · verified-token cache: ${t.cachedUs} µs (${t.speedup}× less)`,
  ];
}
