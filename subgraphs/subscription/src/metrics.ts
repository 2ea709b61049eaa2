import type { AnyDb } from '@c2c/platform/db';
import type { MetricsSink } from '@c2c/platform/observability';
import { OPEN_AMENDMENT_STATUSES, openAmendmentsByStatus } from './data/metrics.repository.ts';
import { syncBacklog } from './data/reconciliation.repository.ts';
import { oldestUnbilledPeriodEnd } from './data/usage.repository.ts';
import type { BillingRunService } from './domain/billing-run.service.ts';
import type { UsageIngestionCounters } from './domain/usage.service.ts';

/** Minutes after which an unposted document counts as overdue, as in `billingSyncBacklog`'s default. */
const OVERDUE_MINUTES = 5;

/**
 * Billing's business gauges (docs/observability.md): the amendment workflow by status, and the
 * documents the ERP has not acknowledged as posted, per business unit. Read at scrape time from
 * partial indexes, cached by the platform.
 */
export function registerBillingMetrics(
  metrics: MetricsSink,
  db: AnyDb,
  billingRun?: Pick<BillingRunService, 'failuresOfLastRun'>,
  usage?: { counters: UsageIngestionCounters; now: () => Date },
): void {
  if (usage) registerUsageMetrics(metrics, db, usage);
  if (billingRun) {
    metrics.scrapedGauge({
      name: 'c2c_billing_run_failures',
      help: "Subscriptions this process's latest billing run could not renew, by code (left due for the next run)",
      labelNames: ['code'],
      read: async () =>
        billingRun.failuresOfLastRun().map((row) => ({ labels: { code: row.code }, value: row.count })),
    });
  }
  const amendments = metrics.cached(() => openAmendmentsByStatus(db));
  const byStatus = async (pick: (row: { count: number; oldestAgeSeconds: number }) => number) => {
    const rows = new Map((await amendments()).map((row) => [row.status, row]));
    return OPEN_AMENDMENT_STATUSES.map((status) => {
      const row = rows.get(status);
      return { labels: { status }, value: row ? pick(row) : 0 };
    });
  };
  metrics.scrapedGauge({
    name: 'c2c_amendments_open',
    help: 'Amendments not yet COMPLETED, by workflow status (ACCEPTED, INVOICED, POSTED, EXCEPTION)',
    labelNames: ['status'],
    read: () => byStatus((row) => row.count),
  });
  metrics.scrapedGauge({
    name: 'c2c_amendments_open_oldest_age_seconds',
    help: 'Age of the oldest amendment in each not-yet-completed status (0 when there is none)',
    labelNames: ['status'],
    read: () => byStatus((row) => row.oldestAgeSeconds),
  });

  // Business units seen once keep reporting (as 0) so a drained backlog reads 0, not "no data".
  const businessUnits = new Set<string>();
  const backlog = metrics.cached(async () => {
    const rows = await syncBacklog(db, OVERDUE_MINUTES);
    for (const row of rows) businessUnits.add(row.businessUnit);
    const byUnit = new Map(rows.map((row) => [row.businessUnit, row]));
    return [...businessUnits].sort().map((unit) => ({ unit, row: byUnit.get(unit) }));
  });
  metrics.scrapedGauge({
    name: 'c2c_unposted_invoices',
    help: 'Invoices and credit notes the ERP has not acknowledged as posted, by business unit and posting status (PENDING, FAILED)',
    labelNames: ['business_unit', 'posting_status'],
    read: async () =>
      (await backlog()).flatMap(({ unit, row }) => [
        { labels: { business_unit: unit, posting_status: 'PENDING' }, value: row?.pendingCount ?? 0 },
        { labels: { business_unit: unit, posting_status: 'FAILED' }, value: row?.failedCount ?? 0 },
      ]),
  });
  metrics.scrapedGauge({
    name: 'c2c_unposted_invoices_overdue',
    help: `Invoices and credit notes still PENDING posting ${OVERDUE_MINUTES} minutes after issue, by business unit`,
    labelNames: ['business_unit'],
    read: async () =>
      (await backlog()).map(({ unit, row }) => ({
        labels: { business_unit: unit },
        value: row?.overdueCount ?? 0,
      })),
  });
  metrics.scrapedGauge({
    name: 'c2c_unposted_invoice_oldest_age_seconds',
    help: 'Age of the oldest invoice or credit note PENDING posting, by business unit (0 when none)',
    labelNames: ['business_unit'],
    read: async () =>
      (await backlog()).map(({ unit, row }) => ({
        labels: { business_unit: unit },
        value: row?.oldestPendingAgeSeconds ?? 0,
      })),
  });
}

/**
 * Usage ingestion (docs/usage.md): events this process handled since start by outcome (monotonic:
 * `rate()` gives the ingestion rate), and how long the oldest unbilled usage has waited since its
 * period ended (0 while it is in the current period). The grace is 72 hours: above 259200 seconds,
 * a billing run is overdue.
 */
function registerUsageMetrics(
  metrics: MetricsSink,
  db: AnyDb,
  usage: { counters: UsageIngestionCounters; now: () => Date },
): void {
  metrics.scrapedGauge({
    name: 'c2c_usage_events_total',
    help: 'Usage events this process received since start, by outcome (accepted, duplicate, late, rejected); monotonic',
    labelNames: ['outcome'],
    read: async () => [
      { labels: { outcome: 'accepted' }, value: usage.counters.accepted },
      { labels: { outcome: 'duplicate' }, value: usage.counters.duplicates },
      { labels: { outcome: 'late' }, value: usage.counters.late },
      { labels: { outcome: 'rejected' }, value: usage.counters.rejected },
    ],
  });
  metrics.scrapedGauge({
    name: 'c2c_usage_backbone_messages_total',
    help: 'Usage messages this process consumed from the event backbone since start, by outcome (processed: its events recorded or refused one by one; rejected: refused whole; retried: handed back for redelivery); monotonic',
    labelNames: ['outcome'],
    read: async () => [
      { labels: { outcome: 'processed' }, value: usage.counters.messages.processed },
      { labels: { outcome: 'rejected' }, value: usage.counters.messages.rejected },
      { labels: { outcome: 'retried' }, value: usage.counters.messages.retried },
    ],
  });
  metrics.scrapedGauge({
    name: 'c2c_usage_oldest_unbilled_age_seconds',
    help: 'Seconds since the end of the oldest period whose usage is not yet invoiced (0 when none has ended)',
    read: async () => {
      const end = await oldestUnbilledPeriodEnd(db);
      const age =
        end === null ? 0 : Math.floor((usage.now().getTime() - Date.parse(`${end}T00:00:00Z`)) / 1000);
      return [{ labels: {}, value: Math.max(0, age) }];
    },
  });
}
