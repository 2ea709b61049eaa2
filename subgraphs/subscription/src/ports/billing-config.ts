import { parseConfig, z } from '@c2c/platform/core';
import { BuiltinBilling } from './builtin/builtin-billing.ts';
import type { BillingPort } from './billing.port.ts';

/** The billing port's settings (README, "Configuration"): which billing platform keeps the records. */
export const BillingEnv = z.object({
  BILLING_ADAPTER: z.enum(['builtin']).default('builtin'),
});

/**
 * The billing platform the environment asks for (default: the built-in one). An unknown adapter
 * stops the start with one message naming the valid ones.
 */
export function billingFromEnv(env: Readonly<Record<string, string | undefined>>): BillingPort {
  const config = parseConfig(BillingEnv, { ...env });
  switch (config.BILLING_ADAPTER) {
    case 'builtin':
      return new BuiltinBilling();
  }
}
