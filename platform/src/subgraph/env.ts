import { port, z } from '../core/config.ts';
import { FAULT_POINTS } from '../core/faults.ts';

/** A subgraph process's environment (also read by the deployment manifests' test). */
export const SubgraphEnv = z.object({
  PORT: port(0),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z
    .string({
      error:
        'DATABASE_URL is required: a subgraph process on its own shares PostgreSQL with the others (use `npm start` for the embedded one-process stack)',
    })
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  // At least 2: the relay holds a transaction while the bus (embedded transport) writes through another.
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  NATS_URL: z
    .string()
    .regex(/^nats:\/\/[^,\s]+(,nats:\/\/[^,\s]+)*$/, 'must be nats:// URLs, comma-separated')
    .optional(),
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  NATS_ACK_WAIT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  NATS_BATCH_MAX: z.coerce.number().int().min(1).max(1000).default(64),
  NATS_STREAM_PREFIX: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{0,30}$/, 'must be upper-case letters, digits and _')
    .optional(),
  SUBGRAPH_SECRET: z
    .string({
      error:
        "SUBGRAPH_SECRET is required: the secret the gateway signs this subgraph's requests with (the gateway gets the same value as <NAME>_SUBGRAPH_SECRET)",
    })
    .min(32, 'SUBGRAPH_SECRET must be at least 32 characters'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  /** Fault tests only (docs/faults.md): the process SIGKILLs itself at this point. */
  C2C_FAULT_POINT: z.enum(FAULT_POINTS).optional(),
});
