import { randomUUID } from 'node:crypto';
import type { ApolloServer } from '@apollo/server';
import { Counter, Gauge } from 'prom-client';
import type { Principal } from '@c2c/platform/auth';
import { parseDecimal, type Logger } from '@c2c/platform/core';
import type { Metrics } from '@c2c/platform/observability';
import type { GatewayContext, PersistedQueryManifest, SafelistMode } from '@c2c/gateway';
import { triageBuckets, type BillingControlTotal, type ControlTotal } from './reconcile.ts';

/*
 * The reconciliation job: on a timer, the registered `ReconciliationTotals` operation runs through
 * the gateway itself, and the control-total differences per business unit become the
 * `c2c_reconciliation_*` gauges (docs/observability.md).
 */

/** One business unit's differences between billing's and the ERP's control totals. */
export interface BusinessUnitDifferences {
  businessUnit: string;
  /** Buckets (currency × month × kind) whose totals differ beyond billing's documents in flight. */
  buckets: number;
  /** Per currency, the sum over those buckets of |billing − ERP| in minor units. */
  amountMinor: Record<string, number>;
}

/**
 * Control-total differences per business unit: the buckets `triageBuckets` would drill into
 * (documents in flight to the ERP explain the others). Every business unit of either side is listed,
 * with zero when it agrees.
 */
export function differencesByBusinessUnit(
  billing: BillingControlTotal[],
  erp: ControlTotal[],
): BusinessUnitDifferences[] {
  const units = new Map<string, BusinessUnitDifferences>();
  for (const row of [...billing, ...erp])
    if (!units.has(row.businessUnit))
      units.set(row.businessUnit, { businessUnit: row.businessUnit, buckets: 0, amountMinor: {} });
  for (const difference of triageBuckets(billing, erp).drillDown) {
    const [currency = '', businessUnit = ''] = difference.key.split('|');
    const unit = units.get(businessUnit)!;
    unit.buckets += 1;
    unit.amountMinor[currency] =
      (unit.amountMinor[currency] ?? 0) + Math.abs(difference.billing.totalMinor - difference.erp.totalMinor);
  }
  return [...units.values()].sort((a, b) => (a.businessUnit < b.businessUnit ? -1 : 1));
}

/** The gateway's own identity for its reconciliation runs: reads and finance feeds, nothing else. */
export const RECONCILER: Principal = {
  sub: 'c2c-gateway-reconciler',
  role: 'finance',
  scopes: ['c2c:read', 'c2c:finance'],
};

type Money = { amount: string; currency: string };
interface TotalsData {
  billing: (Omit<BillingControlTotal, 'totalMinor' | 'inFlightTotalMinor'> & {
    total: Money;
    inFlightTotal: Money;
  })[];
  erp: (Omit<ControlTotal, 'totalMinor'> & { total: Money })[];
}

const minor = (m: Money) => parseDecimal(m.amount, m.currency, null);

export interface ReconciliationMetricsOptions {
  metrics: Metrics;
  /** Seconds between runs; 0 turns the runs (and these metrics) off. */
  intervalSeconds: number;
  /** Documents younger than this and not yet posted are in flight, not differences (default 5). */
  graceMinutes?: number;
  manifest: PersistedQueryManifest;
  safelistMode: SafelistMode;
  log: Logger;
}

export interface ReconciliationMetrics {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
  /** Starts the timer (after `apollo.start()`); the first run comes after one interval. */
  start(apollo: ApolloServer<GatewayContext>): void;
  /** One run now (tests, and the timer). */
  runOnce(apollo: ApolloServer<GatewayContext>): Promise<void>;
}

/**
 * Runs the registered `ReconciliationTotals` operation through the gateway itself — all its plugins:
 * authorization, cost, rate limit, safelist — as the RECONCILER principal every `intervalSeconds`,
 * and exposes the control-total differences per business unit. Control totals only: the document
 * drill-down (`npm run c2c -- reconcile`) stays with operators.
 */
export function reconciliationMetrics(options: ReconciliationMetricsOptions): ReconciliationMetrics {
  const { registry } = options.metrics;
  const log = options.log.child({ component: 'reconciliation-metrics' });
  const operation = options.manifest.operations.find((op) => op.name === 'ReconciliationTotals');
  const differences = new Gauge({
    name: 'c2c_reconciliation_differences',
    help: "Control-total buckets (currency × month × kind) of a business unit where billing and the ERP differ beyond documents in flight, at the gateway's last reconciliation run",
    labelNames: ['business_unit'],
    registers: [registry],
  });
  const amounts = new Gauge({
    name: 'c2c_reconciliation_difference_minor_units',
    help: 'Sum of |billing − ERP| over the differing buckets of a business unit, in minor units of the currency',
    labelNames: ['business_unit', 'currency'],
    registers: [registry],
  });
  const runs = new Counter({
    name: 'c2c_reconciliation_runs_total',
    help: "The gateway's reconciliation runs, by outcome (ok, failed)",
    labelNames: ['outcome'],
    registers: [registry],
  });
  runs.inc({ outcome: 'ok' }, 0);
  runs.inc({ outcome: 'failed' }, 0);
  const lastSuccess = new Gauge({
    name: 'c2c_reconciliation_last_success_timestamp_seconds',
    help: 'Unix time of the last reconciliation run that succeeded (absent before the first)',
    registers: [registry],
  });

  const runOnce = async (apollo: ApolloServer<GatewayContext>) => {
    try {
      if (!operation) throw new Error('ReconciliationTotals is not a registered operation');
      const response = await apollo.executeOperation(
        {
          query: operation.body,
          variables: { graceMinutes: options.graceMinutes ?? 5, stuckFirst: 1 },
          ...(options.safelistMode === 'id-only'
            ? { extensions: { persistedQuery: { version: 1, sha256Hash: operation.id } } }
            : {}),
        },
        { contextValue: serviceContext(log) },
      );
      if (response.body.kind !== 'single') throw new Error('unexpected incremental response');
      const { data, errors } = response.body.singleResult;
      if (errors?.length || !data) throw new Error(errors?.[0]?.message ?? 'no data');
      const totals = data as unknown as TotalsData;
      const billing = totals.billing.map(({ total, inFlightTotal, ...row }) => ({
        ...row,
        totalMinor: minor(total),
        inFlightTotalMinor: minor(inFlightTotal),
      }));
      const erp = totals.erp.map(({ total, ...row }) => ({ ...row, totalMinor: minor(total) }));
      differences.reset();
      amounts.reset();
      for (const unit of differencesByBusinessUnit(billing, erp)) {
        differences.set({ business_unit: unit.businessUnit }, unit.buckets);
        for (const [currency, amount] of Object.entries(unit.amountMinor))
          amounts.set({ business_unit: unit.businessUnit, currency }, amount);
      }
      lastSuccess.setToCurrentTime();
      runs.inc({ outcome: 'ok' });
    } catch (error) {
      runs.inc({ outcome: 'failed' });
      log.warn({ err: error }, 'reconciliation run failed');
    }
  };

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  const stop = async () => {
    if (timer) clearInterval(timer);
    timer = null;
    await running;
  };
  return {
    runOnce,
    start(apollo) {
      if (options.intervalSeconds <= 0 || timer) return;
      timer = setInterval(() => {
        running ??= runOnce(apollo).finally(() => (running = null));
      }, options.intervalSeconds * 1000);
      timer.unref();
    },
    stop,
  };
}

/** A request context for the gateway's own operations, as the RECONCILER. */
export function serviceContext(log: Logger): GatewayContext {
  const requestId = randomUUID();
  return {
    principal: RECONCILER,
    caller: RECONCILER.sub,
    correlationId: `reconcile-${requestId}`,
    requestId,
    log: log.child({ requestId, principal: RECONCILER.sub }),
  };
}
