import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEV_AUDIENCE, DEV_ISSUER } from '@c2c/platform/auth';
import { port, z } from '@c2c/platform/core';
import { envPrefixOf, supergraphSubgraphs } from '@c2c/schema/subgraphs';
import type { AuthConfig } from './auth.ts';
import type { RateLimitConfig } from './rate-limit.ts';
import type { SafelistMode } from './safelist.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The subgraphs composed into a supergraph file: the ones the gateway routes to and signs for. */
export function subgraphNamesOf(supergraphPath: string): string[] {
  return supergraphSubgraphs(readFileSync(supergraphPath, 'utf8')).map((s) => s.name);
}

/** Per subgraph, the variables the gateway reads: `<NAME>_URL` and `<NAME>_SUBGRAPH_SECRET`. */
export function subgraphVariables(name: string): { url: string; secret: string } {
  const prefix = envPrefixOf(name);
  return { url: `${prefix}_URL`, secret: `${prefix}_SUBGRAPH_SECRET` };
}

/** Every variable the gateway reads, for the subgraphs of its supergraph (the manifests' test). */
export function gatewayVariables(subgraphs: readonly string[]): Set<string> {
  return new Set([
    ...Object.keys(GatewayEnv.shape),
    ...subgraphs.flatMap((name) => Object.values(subgraphVariables(name))),
  ]);
}

export const GatewayEnv = z.object({
  PORT: port(4000),
  HOST: z.string().default('127.0.0.1'),
  SUPERGRAPH_PATH: z.string().default(join(ROOT, 'schema', 'supergraph.graphql')),
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
  /** Verified bearer tokens remembered until their expiry (at most a minute); 0: verify every request. */
  AUTH_TOKEN_CACHE_SIZE: z.coerce.number().int().min(0).max(10_000_000).default(10_000),
  /** The development issuer's data directory (its public key), when no AUTH_JWKS_URL is given. */
  DATA_DIR: z.string().default(join(ROOT, '.data')),
  CORS_ORIGINS: z.string().default(''),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10_000_000).default(1_000_000),
  RATE_LIMIT_COST_PER_MINUTE: z.coerce.number().int().min(1).default(600_000),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(100_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  RECONCILE_INTERVAL_S: z.coerce.number().int().min(0).max(86_400).default(300),
  ENTITY_CACHE: z.enum(['on', 'off']).default('on'),
  ENTITY_CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1_000_000)
    .default(64 * 1024 * 1024),
  ENTITY_CACHE_MAX_AGE_S: z.coerce.number().int().min(1).max(86_400).default(300),
  ENTITY_CACHE_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  ENTITY_CACHE_REDIS_PREFIX: z.string().min(1).default('c2c:cache:'),
  /** Where the subgraphs announce the events they applied (the scaled-out shape's NATS). */
  NATS_URL: z
    .string()
    .regex(/^nats:\/\//, 'must be a nats:// URL (comma-separated for several)')
    .optional(),
  NATS_STREAM_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('C2C'),
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
  /** The entity cache (docs/cache.md); on only where the composition root delivers invalidations. */
  entityCache: EntityCacheConfig;
}

export interface EntityCacheConfig {
  enabled: boolean;
  /** The in-process store's bound. */
  maxBytes: number;
  /** A ceiling on every max age the subgraphs declare, in seconds. */
  maxAgeSeconds: number;
  /** A Redis shared by the gateway replicas (the scaled-out shape); absent: in process. */
  redisUrl?: string;
  /** The prefix of every key the cache writes in Redis (default `c2c:cache:`). */
  redisPrefix?: string;
  /**
   * NATS, where the subgraph processes announce the events they applied (`<prefix>.applied`):
   * a gateway process on its own keeps the cache on only with it.
   */
  natsUrl?: string;
  /** The stream prefix of the subgraphs' transport (the subject's first token, in lower case; default `C2C`). */
  streamPrefix?: string;
}

/** Reads the gateway's configuration from the environment once, failing fast. */
export function gatewayConfigFromEnv(env: Record<string, string | undefined>): GatewayConfig {
  const result = GatewayEnv.safeParse(env);
  const problems: string[] = result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  // The subgraphs are those composed into the supergraph: `<NAME>_URL` overrides a routing URL,
  // `<NAME>_SUBGRAPH_SECRET` is required for each.
  const supergraphPath = env.SUPERGRAPH_PATH || join(ROOT, 'schema', 'supergraph.graphql');
  let names: string[] = [];
  try {
    names = subgraphNamesOf(supergraphPath);
    if (names.length === 0)
      problems.push(`SUPERGRAPH_PATH ${supergraphPath} composes no subgraph (no @join__graph)`);
  } catch (error) {
    problems.push(`SUPERGRAPH_PATH ${supergraphPath}: ${(error as Error).message}`);
  }
  const subgraphUrls: Record<string, string> = {};
  const subgraphSecrets: Record<string, string> = {};
  for (const name of names) {
    const variables = subgraphVariables(name);
    const url = env[variables.url];
    if (url !== undefined && url !== '') {
      if (z.url().safeParse(url).success) subgraphUrls[name] = url;
      else problems.push(`${variables.url}: must be a URL (where the ${name} subgraph is reached)`);
    }
    const secret = env[variables.secret];
    if (!secret)
      problems.push(`${variables.secret} is required (the same value as that subgraph's SUBGRAPH_SECRET)`);
    else if (secret.length < 32)
      problems.push(
        `${variables.secret} must be at least 32 characters (it signs gateway → subgraph requests)`,
      );
    else subgraphSecrets[name] = secret;
  }
  if (!result.success || problems.length)
    throw new Error(`invalid gateway configuration:\n  - ${problems.join('\n  - ')}`);
  const parsed = result.data;
  const production = parsed.NODE_ENV === 'production';
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
      verifiedTokenCacheSize: parsed.AUTH_TOKEN_CACHE_SIZE,
    },
    dataDir: parsed.DATA_DIR,
    corsOrigins: parsed.CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    maxBodyBytes: parsed.MAX_BODY_BYTES,
    rateLimit: { costPerMinute: parsed.RATE_LIMIT_COST_PER_MINUTE, burst: parsed.RATE_LIMIT_BURST },
    ...(parsed.METRICS_TOKEN ? { metricsToken: parsed.METRICS_TOKEN } : {}),
    reconcileIntervalSeconds: parsed.RECONCILE_INTERVAL_S,
    entityCache: {
      enabled: parsed.ENTITY_CACHE === 'on',
      maxBytes: parsed.ENTITY_CACHE_MAX_BYTES,
      maxAgeSeconds: parsed.ENTITY_CACHE_MAX_AGE_S,
      ...(parsed.ENTITY_CACHE_REDIS_URL ? { redisUrl: parsed.ENTITY_CACHE_REDIS_URL } : {}),
      redisPrefix: parsed.ENTITY_CACHE_REDIS_PREFIX,
      ...(parsed.NATS_URL ? { natsUrl: parsed.NATS_URL } : {}),
      streamPrefix: parsed.NATS_STREAM_PREFIX,
    },
  };
}
