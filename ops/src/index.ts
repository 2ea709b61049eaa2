import type { GatewayExtension, SafelistMode } from '@c2c/gateway';
import { buildManifest } from '@c2c/gateway/safelist';
import type { Logger } from '@c2c/platform/core';
import { opsConsoleRoute } from './console/serve.ts';
import { reconciliationMetrics, type ReconciliationMetrics } from './reconciler.ts';

export * from './reconcile.ts';
export * from './reconciler.ts';
export {
  opsConsoleRoute,
  CONSOLE_OPERATIONS,
  CONSOLE_HEADERS,
  type OpsConsoleOptions,
} from './console/serve.ts';

export interface OpsOptions {
  /** The registered operations (schema/operations): the console's and the reconciler's queries. */
  operationsDir: string;
  /** Seconds between reconciliation runs behind `c2c_reconciliation_*`; 0 or absent: none. */
  reconcileIntervalSeconds?: number;
  /** How the gateway's safelist treats operations (the reconciler sends its operation's id in id-only). */
  safelistMode: SafelistMode;
  log: Logger;
}

/**
 * The ops application mounted on a gateway by a composition root: the console's pages under /ops
 * (their data comes from /graphql like any client's) and the reconciliation job, which runs through
 * the gateway itself and registers its gauges on the gateway's metrics.
 */
export function opsExtension(
  options: OpsOptions,
): GatewayExtension & { reconciler(): ReconciliationMetrics | null } {
  let reconciler: ReconciliationMetrics | null = null;
  return {
    routes: opsConsoleRoute({ operationsDir: options.operationsDir }),
    started({ apollo, metrics }) {
      reconciler = reconciliationMetrics({
        metrics,
        intervalSeconds: options.reconcileIntervalSeconds ?? 0,
        manifest: buildManifest(options.operationsDir),
        safelistMode: options.safelistMode,
        log: options.log.child({ component: 'ops' }),
      });
      reconciler.start(apollo);
    },
    async stopping() {
      await reconciler?.stop();
    },
    reconciler: () => reconciler,
  };
}
