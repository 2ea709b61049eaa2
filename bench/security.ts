import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEV_AUDIENCE, DEV_ISSUER, devIssuer, ROLE_SCOPES, type Identity } from '@c2c/platform/auth';
import { subgraphVariables } from '@c2c/gateway/config';
import { subgraphsOf } from '@c2c/schema/subgraphs';
import { ISSUER_DIR } from './token.ts';

/**
 * What the hardened stack asks of the bench: a signing secret per subgraph (fresh for every bench
 * run, made once in the parent and handed to the children by environment), and the issuer's public
 * key served as a JWKS over HTTP so that our gateway verifies tokens exactly as in production
 * (`NODE_ENV=production` with `AUTH_JWKS_URL`).
 */

/** The subgraphs of rover.yaml, the ones the bench runs. */
export const SUBGRAPH_NAMES: readonly string[] = subgraphsOf().map((s) => s.name);
export type SubgraphName = string;
export type SubgraphSecrets = Record<SubgraphName, string>;

/** The environment variable carrying the secrets (JSON, subgraph name → secret) to the children. */
export const SECRETS_ENV = 'BENCH_SUBGRAPH_SECRETS';

let secrets: SubgraphSecrets | null = null;

/** This bench run's secrets: 64 hex characters per subgraph, the same for every child of the run. */
export function benchSecrets(): SubgraphSecrets {
  secrets ??= Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, randomBytes(32).toString('hex')]));
  return secrets;
}

export function secretsEnv(): Record<string, string> {
  return { [SECRETS_ENV]: JSON.stringify(benchSecrets()) };
}

/** In a child: the secrets its parent handed it, checked. */
export function secretsFromEnv(env: Record<string, string | undefined> = process.env): SubgraphSecrets {
  const raw = env[SECRETS_ENV];
  if (!raw) throw new Error(`${SECRETS_ENV} is not set (the bench parent passes it)`);
  const parsed = JSON.parse(raw) as Partial<Record<string, unknown>>;
  const out = {} as SubgraphSecrets;
  for (const name of SUBGRAPH_NAMES) {
    const value = parsed[name];
    if (typeof value !== 'string' || value.length < 32)
      throw new Error(`${SECRETS_ENV}: no secret of at least 32 characters for ${name}`);
    out[name] = value;
  }
  return out;
}

/**
 * The identity the baselines (bare Apollo Gateway, Hive Gateway) sign with. They verify no token,
 * so they have no caller to name; a fixed admin identity is what lets every subgraph field through.
 */
export const BASELINE_IDENTITY: Identity = { sub: 'bench', role: 'admin', scopes: [...ROLE_SCOPES.admin] };

/**
 * The supergraph without the SECURITY purpose on the authorization features' links, which
 * @apollo/gateway 2.14 refuses to load (see apollo.child.ts).
 */
export function withoutSecurityPurpose(sdl: string): string {
  return sdl.replace(
    /(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:requiresScopes|authenticated)\/v[\d.]+"), for: SECURITY\)/g,
    '$1)',
  );
}

let jwks: Promise<{ url: string; server: Server }> | null = null;

/**
 * The bench issuer's JWKS at `http://127.0.0.1:<port>/.well-known/jwks.json`, served by the parent
 * for the whole run. The gateway fetches it once (jose caches it) before the first verification.
 */
export function benchJwksUrl(): Promise<string> {
  jwks ??= (async () => {
    const body = JSON.stringify((await devIssuer(ISSUER_DIR)).jwks);
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/.well-known/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    server.unref();
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/.well-known/jwks.json`, server };
  })();
  return jwks.then((j) => j.url);
}

/**
 * A cost budget no bench load can exhaust: every request at the gateway's cost ceiling (50,000)
 * at 10,000 requests per second. The limiter still runs and charges every request.
 */
export const BENCH_RATE_LIMIT = { costPerMinute: 50_000 * 10_000 * 60, burst: 50_000 * 10_000 };

/**
 * The environment of `ours.child.ts`: production (`NODE_ENV=production` inside the child), tokens
 * verified against the bench issuer's JWKS URL, the run's subgraph secrets, mutations only from the
 * safelist, no CORS origin, and the rate limit on with the budget above.
 */
export async function ourGatewayEnv(urls: Record<string, string>): Promise<Record<string, string>> {
  const s = benchSecrets();
  const perSubgraph = SUBGRAPH_NAMES.flatMap((name) => {
    const variables = subgraphVariables(name);
    const url = urls[name];
    if (!url) throw new Error(`no URL for subgraph ${name}`);
    return [
      [variables.url, url],
      [variables.secret, s[name]!],
    ];
  });
  return {
    ...Object.fromEntries(perSubgraph),
    AUTH_ISSUER: DEV_ISSUER,
    AUTH_AUDIENCE: DEV_AUDIENCE,
    AUTH_JWKS_URL: await benchJwksUrl(),
    AUTH_ALGORITHMS: 'ES256',
    SAFELIST_MODE: 'enforce-mutations',
    CORS_ORIGINS: '',
    RATE_LIMIT_COST_PER_MINUTE: String(BENCH_RATE_LIMIT.costPerMinute),
    RATE_LIMIT_BURST: String(BENCH_RATE_LIMIT.burst),
  };
}
