import { parseConfig, z, type Logger } from '@c2c/platform/core';
import type { AnyDb } from '@c2c/platform/db';
import { BuiltinLedger } from './builtin/builtin-ledger.ts';
import type { LedgerPort } from './ledger.port.ts';
import { parseTrytonUrl } from './tryton/client.ts';
import { TrytonLedger } from './tryton/tryton-ledger.ts';

/** The ERP port's settings (README, "Configuration"): which adapter, and the external ERP's. */
export const LedgerEnv = z
  .object({
    ERP_ADAPTER: z.enum(['builtin', 'tryton']).default('builtin'),
    TRYTON_URL: z.string().optional(),
    TRYTON_COMPANY: z.string().min(1).default('C2C Demo Company'),
    TRYTON_CURRENCY: z.enum(['USD', 'EUR']).default('USD'),
    TRYTON_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
    TRYTON_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    TRYTON_POLL_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  })
  .superRefine((env, ctx) => {
    if (env.ERP_ADAPTER !== 'tryton') return;
    if (!env.TRYTON_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['TRYTON_URL'],
        message: 'TRYTON_URL is required with ERP_ADAPTER=tryton: http://USER:PASSWORD@HOST:PORT/DATABASE',
      });
      return;
    }
    try {
      parseTrytonUrl(env.TRYTON_URL);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['TRYTON_URL'], message: (error as Error).message });
    }
  });

/** The ledger of record the environment asks for (default: the built-in one). */
export function ledgerFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  db: AnyDb,
  log: Logger,
  now: () => Date,
): LedgerPort {
  const config = parseConfig(LedgerEnv, { ...env });
  if (config.ERP_ADAPTER === 'builtin') return new BuiltinLedger();
  return new TrytonLedger(
    db,
    {
      url: config.TRYTON_URL!,
      companyName: config.TRYTON_COMPANY,
      currency: config.TRYTON_CURRENCY,
      timeoutMs: config.TRYTON_TIMEOUT_MS,
      concurrency: config.TRYTON_CONCURRENCY,
      pollMs: config.TRYTON_POLL_MS,
      now,
    },
    log,
  );
}
