import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

import { fixedClock, waitFor } from '@c2c/platform/testing';
import { type Stack, type SubgraphName } from '@c2c/apps/stack';
import { startTestStack } from '../support/stack.ts';
import {
  aSyncedSubscription,
  amend,
  RETRY,
  send,
  TODAY,
  type SyncedSubscription,
} from '../faults/support.ts';
import { exposedNames, parsePrometheusText, valueOf, type Family } from './prometheus-text.ts';

// GET /metrics of the gateway and of each subgraph, parsed strictly; the alert rules and the
// dashboard name only metrics the processes expose; and the business gauges of billing move when
// the ERP's consumers stop and amendments are issued, and come back when it catches up.

const ROOT = join(import.meta.dirname, '..', '..');
let stack: Stack;
let synced: SyncedSubscription;
const BUSINESS_UNIT = 'EMEA-MM';

const metricsUrl = (graphqlUrl: string) => graphqlUrl.replace(/\/graphql$/, '/metrics');

async function scrape(url: string): Promise<Map<string, Family>> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

const scrapeGateway = () => scrape(metricsUrl(stack.gatewayUrl));
function subgraphUrl(name: SubgraphName): string {
  const running = stack.subgraphs.find((s) => s.name === name);
  if (!running) throw new Error(`${name} is not running`);
  return metricsUrl(running.url);
}
const scrapeSubgraph = (name: SubgraphName) => scrape(subgraphUrl(name));

/** Billing's gauges that the workflow moves, from one scrape. */
async function billingGauges() {
  const families = await scrapeSubgraph('subscription');
  return {
    invoiced: valueOf(families, 'c2c_amendments_open', { status: 'INVOICED' }) ?? 0,
    unposted:
      valueOf(families, 'c2c_unposted_invoices', {
        business_unit: BUSINESS_UNIT,
        posting_status: 'PENDING',
      }) ?? 0,
    erpLag: valueOf(families, 'c2c_consumer_lag_events', {
      source: 'subscription',
      consumer: 'finance.billing',
    }),
    outbox: valueOf(families, 'c2c_outbox_backlog_events'),
    outboxAge: valueOf(families, 'c2c_outbox_oldest_age_seconds'),
  };
}

/** Metric names in a PromQL expression (ours and the standard process ones). */
function namesIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:c2c|process|nodejs)_[a-zA-Z0-9_]+|up)\b/g)].map((m) => m[1]!);
}

beforeAll(async () => {
  stack = await startTestStack({
    clock: fixedClock(TODAY),
    retry: RETRY,
    // A reconciliation run every second, so its gauges appear within the test.
    gateway: { reconcileIntervalSeconds: 1 },
  });
  synced = await aSyncedSubscription(stack.gatewayUrl, 5);
});

afterAll(async () => {
  await stack?.stop();
});

describe('GET /metrics', () => {
  it('passes a strict Prometheus text-format parser on every process, with each its own metrics', async () => {
    // The same document twice: the second execution finds its query plan in the cache.
    for (let i = 0; i < 2; i++)
      await send(stack.gatewayUrl, 'portal.CustomerToCash', { customerId: synced.customerId });
    const gateway = await scrapeGateway();
    for (const name of [
      'c2c_graphql_requests_total',
      'c2c_graphql_request_duration_seconds',
      'c2c_http_requests_total',
      'c2c_subgraph_requests_total',
      'c2c_subgraph_request_duration_seconds',
      'c2c_subgraph_circuit_breaker_state',
      'c2c_query_plan_cache_lookups_total',
      'c2c_query_plan_cache_entries',
      'process_cpu_seconds_total',
    ])
      expect(gateway.has(name), name).toBe(true);
    expect(gateway.get('c2c_graphql_request_duration_seconds')!.type).toBe('histogram');
    // The registered operations the setup sent are labelled by name; every series says its service.
    expect(
      valueOf(gateway, 'c2c_graphql_requests_total', {
        operation: 'CreateCustomer',
        type: 'mutation',
        outcome: 'ok',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      gateway.get('c2c_graphql_requests_total')!.samples.every((s) => s.labels.service === 'gateway'),
    ).toBe(true);
    for (const subgraph of ['customer', 'subscription', 'finance'])
      expect(valueOf(gateway, 'c2c_subgraph_circuit_breaker_state', { subgraph, state: 'closed' })).toBe(1);
    // CustomerToCash ran several times with the same document: later runs found their plan.
    expect(valueOf(gateway, 'c2c_query_plan_cache_lookups_total', { result: 'hit' })).toBeGreaterThan(0);
    expect(valueOf(gateway, 'c2c_query_plan_cache_entries')).toBeGreaterThan(0);

    for (const name of ['customer', 'subscription', 'finance'] as const) {
      const families = await scrapeSubgraph(name);
      for (const metric of [
        'c2c_graphql_requests_total',
        'c2c_outbox_backlog_events',
        'c2c_outbox_oldest_age_seconds',
        'c2c_consumer_lag_events',
        'c2c_dead_letters',
      ])
        expect(families.has(metric), `${name} ${metric}`).toBe(true);
      expect(valueOf(families, 'c2c_outbox_backlog_events', { service: name })).toBeDefined();
    }
    const finance = await scrapeSubgraph('finance');
    expect(valueOf(finance, 'c2c_dead_letters', { consumer: 'finance.billing' })).toBe(0);
    const billing = await scrapeSubgraph('subscription');
    for (const metric of [
      'c2c_amendments_open',
      'c2c_amendments_open_oldest_age_seconds',
      'c2c_unposted_invoices',
      'c2c_unposted_invoices_overdue',
      'c2c_unposted_invoice_oldest_age_seconds',
    ])
      expect(billing.has(metric), metric).toBe(true);
  });

  it('is all the alert rules and the dashboard refer to', async () => {
    const exposed = new Set<string>(['up']); // `up` is Prometheus's own, per scraped target
    for (const families of [
      await scrapeGateway(),
      ...(await Promise.all((['customer', 'subscription', 'finance'] as const).map(scrapeSubgraph))),
    ])
      for (const name of exposedNames(families)) exposed.add(name);
    // The reconciliation gauges appear with the first successful run.
    await waitFor(
      async () => (await scrapeGateway()).has('c2c_reconciliation_last_success_timestamp_seconds'),
      30_000,
      'a reconciliation run',
    );
    for (const name of exposedNames(await scrapeGateway())) exposed.add(name);

    const rules = parseYaml(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as {
      groups: { name: string; rules: { alert: string; expr: string }[] }[];
    };
    const alertNames = rules.groups.flatMap((g) => g.rules.flatMap((r) => namesIn(r.expr)));
    expect(alertNames.length).toBeGreaterThan(10);
    expect(alertNames.filter((name) => !exposed.has(name))).toEqual([]);

    const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/c2c-dashboard.json'), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const dashboardNames = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => namesIn(t.expr)));
    expect(dashboardNames.length).toBeGreaterThan(20);
    expect(dashboardNames.filter((name) => !exposed.has(name))).toEqual([]);
  });

  it('refuses other methods on /metrics', async () => {
    const response = await fetch(metricsUrl(stack.gatewayUrl), { method: 'POST' });
    expect(response.status).toBe(405);
  });
});

describe('business gauges', () => {
  it('move while the ERP is stopped and amendments are issued, and return when it catches up', async () => {
    const before = await waitFor(
      async () => {
        const gauges = await billingGauges();
        // Settled: nothing waits for the ERP, and billing has the ERP's acknowledgement of every
        // posting (the set-up invoice's `invoice.posted` can still be on its way back).
        return gauges.erpLag === 0 && gauges.outbox === 0 && gauges.unposted === 0 ? gauges : undefined;
      },
      30_000,
      'billing to be settled',
    );

    // The ERP down: billing still invoices, its events wait for the ERP's consumer.
    await stack.stopSubgraph('finance');
    await amend(stack.gatewayUrl, {
      subscriptionId: synced.subscriptionId,
      seats: 6,
      effectiveDate: TODAY.slice(0, 10),
    });
    await amend(stack.gatewayUrl, {
      subscriptionId: synced.subscriptionId,
      seats: 8,
      effectiveDate: TODAY.slice(0, 10),
    });
    const stalled = await waitFor(
      async () => {
        const gauges = await billingGauges();
        return gauges.invoiced >= before.invoiced + 2 &&
          gauges.unposted >= before.unposted + 2 &&
          (gauges.erpLag ?? 0) >= 2
          ? gauges
          : undefined;
      },
      30_000,
      'INVOICED amendments, unposted invoices and the ERP consumer lag to grow',
    );
    expect(stalled.invoiced - before.invoiced).toBe(2);
    // The gateway saw the ERP fail: its fetches to finance are not ok, and the reconciliation fails.
    await send(stack.gatewayUrl, 'portal.CustomerToCash', { customerId: synced.customerId }).catch(
      () => undefined,
    );
    await waitFor(
      async () => {
        const gateway = await scrapeGateway();
        const failedFetches = (gateway.get('c2c_subgraph_requests_total')?.samples ?? []).filter(
          (s) => s.labels.subgraph === 'finance' && s.labels.outcome !== 'ok',
        );
        return (
          failedFetches.length > 0 &&
          (valueOf(gateway, 'c2c_reconciliation_runs_total', { outcome: 'failed' }) ?? 0) > 0
        );
      },
      30_000,
      'failed fetches to finance and a failed reconciliation run',
    );

    // Billing's relay stopped too: the next amendment's events stay in its outbox.
    const relay = stack.subgraphs.find((s) => s.name === 'subscription')!.relay;
    await relay.stop();
    await amend(stack.gatewayUrl, {
      subscriptionId: synced.subscriptionId,
      seats: 9,
      effectiveDate: TODAY.slice(0, 10),
    });
    const backlog = await waitFor(
      async () => {
        const gauges = await billingGauges();
        return (gauges.outbox ?? 0) >= 1 ? gauges : undefined;
      },
      30_000,
      'the billing outbox backlog',
    );
    // A row is waiting, so its age is measurable (the gauge is clamped at 0 only when there is none).
    expect(backlog.outboxAge).toBeGreaterThan(0);

    // Everything back: billing restarted (a fresh relay drains the outbox), the ERP catches up.
    await stack.stopSubgraph('subscription');
    await stack.startSubgraph('subscription');
    await stack.startSubgraph('finance');
    let lastGauges: unknown = null;
    const after = await waitFor(
      async () => {
        const gauges = await billingGauges();
        lastGauges = { ...gauges, before };
        return gauges.outbox === 0 &&
          gauges.erpLag === 0 &&
          gauges.invoiced === before.invoiced &&
          gauges.unposted === before.unposted
          ? gauges
          : undefined;
      },
      60_000,
      'billing gauges to return',
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last ${JSON.stringify(lastGauges)}`, { cause: error });
    });
    expect(after.outboxAge).toBe(0);
    const finance = await scrapeSubgraph('finance');
    expect(valueOf(finance, 'c2c_dead_letters', { consumer: 'finance.billing' })).toBe(0);
    // And the gateway's next reconciliation finds billing and the ERP in agreement.
    await waitFor(
      async () =>
        valueOf(await scrapeGateway(), 'c2c_reconciliation_differences', { business_unit: BUSINESS_UNIT }) ===
        0,
      30_000,
      'no reconciliation differences',
    );
  });
});
