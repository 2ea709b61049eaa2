import { join } from 'node:path';
import { DEV_AUDIENCE, DEV_ISSUER, parseConfig, port, z } from '@c2c/platform';
import type { AuthConfig } from './auth.ts';
import type { RateLimitConfig } from './rate-limit.ts';
import type { SafelistMode } from './safelist.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The subgraphs the gateway signs requests for, by the name composed into the supergraph. */
export const SUBGRAPH_NAMES = ['customer', 'subscription', 'finance'] as const;

const secret = (name: string) =>
  z
    .string()
    .min(32, `${name} must be at least 32 characters (it signs gateway → subgraph requests)`)
    .optional();

export const GatewayEnv = z.object({
  PORT: port(4000),
  HOST: z.string().default('127.0.0.1'),
  SUPERGRAPH_PATH: z.string().default(join(ROOT, 'schema', 'supergraph.graphql')),
  CUSTOMER_URL: z.url().optional(),
  SUBSCRIPTION_URL: z.url().optional(),
  FINANCE_URL: z.url().optional(),
  CUSTOMER_SUBGRAPH_SECRET: secret('CUSTOMER_SUBGRAPH_SECRET'),
  SUBSCRIPTION_SUBGRAPH_SECRET: secret('SUBSCRIPTION_SUBGRAPH_SECRET'),
  FINANCE_SUBGRAPH_SECRET: secret('FINANCE_SUBGRAPH_SECRET'),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  SUBGRAPH_MUTATION_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(120_000),
  NODE_ENV: z.string().optional(),
  SAFELIST_MODE: z.enum(['off', 'audit', 'enforce', 'enforce-mutations', 'id-only']).optional(),
  OPERATIONS_DIR: z.string().default(join(ROOT, 'schema', 'operations')),
  AUTH_ISSUER: z.string().optional(),
  AUTH_AUDIENCE: z.string().optional(),
  AUTH_JWKS_URL: z.url().optional(),
  AUTH_ALGORITHMS: z.string().default('ES256,RS256'),
  AUTH_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(60).default(30),
  /** The development issuer's data directory (its public key), when no AUTH_JWKS_URL is given. */
  DATA_DIR: z.string().default(join(ROOT, '.data')),
  CORS_ORIGINS: z.string().default(''),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10_000_000).default(1_000_000),
  RATE_LIMIT_COST_PER_MINUTE: z.coerce.number().int().min(1).default(600_000),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(100_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  RECONCILE_INTERVAL_S: z.coerce.number().int().min(0).max(86_400).default(300),
});

export interface GatewayConfig {
  port: number;
  host: string;
  supergraphPath: string;
  /** Subgraph name → URL, overriding the routing URLs composed into the supergraph. */
  subgraphUrls: Record<string, string>;
  /** Subgraph name → the secret its requests are signed with. */
  subgraphSecrets: Record<string, string>;
  /** Per subgraph request for queries. */
  subgraphTimeoutMs: number;
  /** Per subgraph request for mutations (the billing run is a long batch). */
  subgraphMutationTimeoutMs: number;
  logLevel: string;
  /** NODE_ENV=production: introspection off, safelist enforced for mutations, settings required. */
  production: boolean;
  /** Which operations may run (see safelist.ts); production defaults to enforce-mutations. */
  safelistMode: SafelistMode;
  /** The registered client operations compiled into the safelist. */
  operationsDir: string;
  /** How bearer tokens are verified; `jwks` absent and no `jwksUrl` means the dev issuer's key. */
  auth: Omit<AuthConfig, 'jwks'> & { jwks?: AuthConfig['jwks'] };
  /** Where the development issuer keeps its key (used when auth has no JWKS). */
  dataDir: string;
  corsOrigins: string[];
  maxBodyBytes: number;
  rateLimit: RateLimitConfig;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
  /** Seconds between the reconciliation runs behind `c2c_reconciliation_*`; 0 or absent: none. */
  reconcileIntervalSeconds?: number;
}

/** Reads the gateway's configuration from the environment once, failing fast. */
export function gatewayConfigFromEnv(env: Record<string, string | undefined>): GatewayConfig {
  const parsed = parseConfig(GatewayEnv, env);
  const production = parsed.NODE_ENV === 'production';
  const subgraphUrls: Record<string, string> = {};
  if (parsed.CUSTOMER_URL) subgraphUrls.customer = parsed.CUSTOMER_URL;
  if (parsed.SUBSCRIPTION_URL) subgraphUrls.subscription = parsed.SUBSCRIPTION_URL;
  if (parsed.FINANCE_URL) subgraphUrls.finance = parsed.FINANCE_URL;
  const subgraphSecrets: Record<string, string> = {};
  if (parsed.CUSTOMER_SUBGRAPH_SECRET) subgraphSecrets.customer = parsed.CUSTOMER_SUBGRAPH_SECRET;
  if (parsed.SUBSCRIPTION_SUBGRAPH_SECRET) subgraphSecrets.subscription = parsed.SUBSCRIPTION_SUBGRAPH_SECRET;
  if (parsed.FINANCE_SUBGRAPH_SECRET) subgraphSecrets.finance = parsed.FINANCE_SUBGRAPH_SECRET;

  const problems: string[] = [];
  for (const name of SUBGRAPH_NAMES) {
    if (!subgraphSecrets[name])
      problems.push(
        `${name.toUpperCase()}_SUBGRAPH_SECRET is required (the same value as that subgraph's SUBGRAPH_SECRET)`,
      );
  }
  if (production) {
    if (!parsed.AUTH_ISSUER) problems.push('AUTH_ISSUER is required in production (your OIDC issuer)');
    if (!parsed.AUTH_AUDIENCE) problems.push("AUTH_AUDIENCE is required in production (this API's audience)");
    if (!parsed.AUTH_JWKS_URL)
      problems.push("AUTH_JWKS_URL is required in production (the issuer's JWKS URL)");
  }
  if (problems.length) throw new Error(`invalid gateway configuration:\n  - ${problems.join('\n  - ')}`);

  return {
    port: parsed.PORT,
    host: parsed.HOST,
    supergraphPath: parsed.SUPERGRAPH_PATH,
    subgraphUrls,
    subgraphSecrets,
    subgraphTimeoutMs: parsed.SUBGRAPH_TIMEOUT_MS,
    subgraphMutationTimeoutMs: parsed.SUBGRAPH_MUTATION_TIMEOUT_MS,
    logLevel: parsed.LOG_LEVEL,
    production,
    safelistMode: parsed.SAFELIST_MODE ?? (production ? 'enforce-mutations' : 'audit'),
    operationsDir: parsed.OPERATIONS_DIR,
    auth: {
      issuer: parsed.AUTH_ISSUER ?? DEV_ISSUER,
      audience: parsed.AUTH_AUDIENCE ?? DEV_AUDIENCE,
      ...(parsed.AUTH_JWKS_URL ? { jwksUrl: parsed.AUTH_JWKS_URL } : {}),
      algorithms: parsed.AUTH_ALGORITHMS.split(',')
        .map((a) => a.trim())
        .filter(Boolean),
      clockToleranceSeconds: parsed.AUTH_CLOCK_TOLERANCE_S,
    },
    dataDir: parsed.DATA_DIR,
    corsOrigins: parsed.CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    maxBodyBytes: parsed.MAX_BODY_BYTES,
    rateLimit: { costPerMinute: parsed.RATE_LIMIT_COST_PER_MINUTE, burst: parsed.RATE_LIMIT_BURST },
    ...(parsed.METRICS_TOKEN ? { metricsToken: parsed.METRICS_TOKEN } : {}),
    reconcileIntervalSeconds: parsed.RECONCILE_INTERVAL_S,
  };
}
