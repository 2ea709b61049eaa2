import { parseConfig, z } from '@c2c/platform/core';
import type { AnyDb } from '@c2c/platform/db';
import { BuiltinCrm } from './builtin/builtin-crm.ts';
import type { CrmPort } from './crm.port.ts';

/** The CRM port's settings (README, "Configuration"): which adapter keeps the accounts. */
export const CrmEnv = z.object({
  CRM_ADAPTER: z.enum(['builtin']).default('builtin'),
});

/**
 * The CRM of record the environment asks for (default: the built-in one). An unknown adapter
 * stops the start with one message naming the valid ones.
 */
export function crmFromEnv(env: Readonly<Record<string, string | undefined>>, db: AnyDb): CrmPort {
  const config = parseConfig(CrmEnv, { ...env });
  switch (config.CRM_ADAPTER) {
    case 'builtin':
      return new BuiltinCrm(db);
  }
}
