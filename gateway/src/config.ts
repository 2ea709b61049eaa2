import { join } from 'node:path';
import { parseConfig, port, z } from '@c2c/platform';
import type { SafelistMode } from './safelist.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export const GatewayEnv = z.object({
  PORT: port(4000),
  HOST: z.string().default('127.0.0.1'),
  SUPERGRAPH_PATH: z.string().default(join(ROOT, 'schema', 'supergraph.graphql')),
  CUSTOMER_URL: z.url().optional(),
  SUBSCRIPTION_URL: z.url().optional(),
  FINANCE_URL: z.url().optional(),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  SUBGRAPH_MUTATION_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(120_000),
  NODE_ENV: z.string().optional(),
  SAFELIST_MODE: z.enum(['off', 'audit', 'enforce', 'enforce-mutations', 'id-only']).optional(),
  OPERATIONS_DIR: z.string().default(join(ROOT, 'schema', 'operations')),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface GatewayConfig {
  port: number;
  host: string;
  supergraphPath: string;
  /** Subgraph name → URL, overriding the routing URLs composed into the supergraph. */
  subgraphUrls: Record<string, string>;
  /** Per subgraph request for queries. */
  subgraphTimeoutMs: number;
  /** Per subgraph request for mutations (the billing run is a long batch). */
  subgraphMutationTimeoutMs: number;
  logLevel: string;
  /** Which operations may run (see safelist.ts); production defaults to enforce-mutations. */
  safelistMode: SafelistMode;
  /** The registered client operations compiled into the safelist. */
  operationsDir: string;
}

/** Reads the gateway's configuration from the environment once, failing fast. */
export function gatewayConfigFromEnv(env: Record<string, string | undefined>): GatewayConfig {
  const parsed = parseConfig(GatewayEnv, env);
  const subgraphUrls: Record<string, string> = {};
  if (parsed.CUSTOMER_URL) subgraphUrls.customer = parsed.CUSTOMER_URL;
  if (parsed.SUBSCRIPTION_URL) subgraphUrls.subscription = parsed.SUBSCRIPTION_URL;
  if (parsed.FINANCE_URL) subgraphUrls.finance = parsed.FINANCE_URL;
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    supergraphPath: parsed.SUPERGRAPH_PATH,
    subgraphUrls,
    subgraphTimeoutMs: parsed.SUBGRAPH_TIMEOUT_MS,
    subgraphMutationTimeoutMs: parsed.SUBGRAPH_MUTATION_TIMEOUT_MS,
    logLevel: parsed.LOG_LEVEL,
    safelistMode: parsed.SAFELIST_MODE ?? (parsed.NODE_ENV === 'production' ? 'enforce-mutations' : 'audit'),
    operationsDir: parsed.OPERATIONS_DIR,
  };
}
