import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixedClock, graphql, unique, waitFor } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
import type { Stack } from '@c2c/apps/stack';
import { startTestStack } from '../support/stack.ts';
import { reconcile } from '../../cli/commands/reconcile.ts';
import { gatewayClient } from '../../cli/lib/gateway-client.ts';
import { parsePrometheusText, valueOf } from '../observability/prometheus-text.ts';

// Usage-based billing through the gateway over HTTP (docs/usage.md): a product platform reports
// usage with the telemetry role, late, twice and out of order; the billing run rates each ended
// period in arrears on the renewal invoice after the grace, and bills late usage as an adjustment
// on the next invoice; reconciliation finds recorded usage equal to invoiced usage. Every client
// request is a registered operation from schema/operations/, sent unchanged.

let stack: Stack;
let telemetryToken: string;
let portalToken: string;
let financeToken: string;
const clock = fixedClock('2026-03-10T12:00:00Z');

async function send<T = any>(name: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const result = await graphql(stack.gatewayUrl, operation(name), variables, headers);
  if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

const record = async (events: Record<string, unknown>[]) =>
  (await send('usage.RecordUsage', { input: { events } }, telemetryToken)).recordUsage;

const renew = async (asOf: string) =>
  (await send('billing.RenewSubscriptions', { asOf, idempotencyKey: unique('run') })).renewSubscriptions;

/** Invoices of a subscription with their lines (the view's invoice lines, with the usage they bill). */
async function invoicesOf(subscriptionId: string) {
  const result = await graphql(
    stack.gatewayUrl,
    `
      query ($id: ID!) {
        billingSubscription(id: $id) {
          invoices(first: 20) {
            nodes {
              number
              issuedOn
              subtotal {
                amount
              }
              tax {
                amount
              }
              total {
                amount
              }
              lines {
                description
                amount {
                  amount
                }
                tax {
                  amount
                }
                periodStart
                periodEnd
                usageMetric
                usageQuantity
                usageUnitPrice
                usageAdjustment
              }
            }
          }
        }
      }
    `,
    { id: subscriptionId },
  );
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  const nodes = (result.data as any).billingSubscription.invoices.nodes as any[];
  const withUsage = nodes.map((node) => ({
    ...node,
    lines: node.lines.map((line: any) => ({
      ...line,
      usage: line.usageMetric
        ? {
            metric: line.usageMetric,
            quantity: line.usageQuantity,
            unitPrice: line.usageUnitPrice,
            adjustment: line.usageAdjustment,
          }
        : null,
    })),
  }));
  return withUsage.sort((a, b) => String(a.issuedOn).localeCompare(String(b.issuedOn)));
}

/** `c2c reconcile`'s usage section for one subscription (the command's own code, through the gateway). */
async function reconcileUsage(subscriptionId: string) {
  const report = await reconcile(gatewayClient(stack.gatewayUrl, financeToken), {
    gateway: stack.gatewayUrl,
    range: { from: null, to: null },
    graceMinutes: 5,
  });
  return report.usage.filter((u) => u.subscriptionId === subscriptionId);
}

async function reconciliation(subscriptionId: string) {
  const result = await graphql(
    stack.gatewayUrl,
    `
      query {
        usageReconciliation(from: "2026-01-01", to: "2026-04-01") {
          subscriptionId
          period {
            start
            end
          }
          metric
          recorded
          invoiced
          unbilled
        }
      }
    `,
  );
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return ((result.data as any).usageReconciliation as any[]).filter(
    (row) => row.subscriptionId === subscriptionId,
  );
}

const event = (subscriptionId: string, id: string, quantity: string, occurredAt: string) => ({
  id,
  subscriptionId,
  metric: 'api_calls',
  quantity,
  occurredAt,
});

/** A DE customer on a new metered plan: 9.95 USD a seat a month, 1,000 API calls included, then 0.01 up to 10,000 billable, 0.0015 above. */
async function aMeteredSubscription(startDate: string) {
  const created = await send('admin.CreateCustomer', {
    input: {
      name: unique('Metered'),
      email: 'ap@metered.example',
      country: 'DE',
      businessUnit: 'EMEA-MM',
      idempotencyKey: unique('cust'),
    },
  });
  const customerId = created.createCustomer.customer.id as string;
  const code = unique('API')
    .toUpperCase()
    .replace(/[^A-Z0-9-]/g, '-')
    .slice(0, 60);
  const plan = (
    await send('admin.CreateMeteredPlan', {
      input: {
        code,
        name: 'API',
        billingPeriod: 'MONTH',
        unitPrice: { amount: '9.95', currency: 'USD' },
        usagePrices: [
          {
            metric: 'api_calls',
            includedQuantity: '1000',
            tiers: [
              { upTo: '10000', unitPrice: { amount: '0.01', currency: 'USD' } },
              { upTo: null, unitPrice: { amount: '0.0015', currency: 'USD' } },
            ],
          },
        ],
        idempotencyKey: unique('plan'),
      },
    })
  ).createPlan;
  expect(plan.userErrors).toEqual([]);
  expect(plan.plan.usagePrices).toEqual([
    {
      metric: 'api_calls',
      includedQuantity: '1000',
      tiers: [
        { upTo: '10000', unitPrice: { amount: '0.01', currency: 'USD' } },
        { upTo: null, unitPrice: { amount: '0.0015', currency: 'USD' } },
      ],
    },
  ]);
  const subscription = await waitFor(
    async () => {
      const data = await send('admin.CreateSubscription', {
        input: { customerId, planCode: code, seats: 1, startDate, idempotencyKey: unique('sub') },
      });
      const payload = data.createSubscription;
      if (payload.userErrors[0]?.code === 'UNKNOWN_CUSTOMER') return undefined;
      expect(payload.userErrors).toEqual([]);
      return payload.subscription;
    },
    15_000,
    'the bill-to replica',
  );
  return { customerId, subscriptionId: subscription.id as string };
}

beforeAll(async () => {
  stack = await startTestStack({ clock });
  telemetryToken = await stack.token('telemetry');
  portalToken = await stack.token('portal');
  financeToken = await stack.token('finance');
});
afterAll(() => stack?.stop());

describe('usage-based billing through the gateway', () => {
  it('ignores duplicates, rates out-of-order usage, waits for the grace and bills late usage as an adjustment', async () => {
    const { customerId, subscriptionId } = await aMeteredSubscription('2026-01-01');
    const id = unique('evt');

    // Out of order and twice: the 20th before the 10th, the 10th again in a later batch.
    expect(
      await record([
        event(subscriptionId, `${id}-b`, '4000', '2026-01-20T08:00:00Z'),
        event(subscriptionId, `${id}-a`, '5000', '2026-01-10T08:00:00Z'),
        event(subscriptionId, `${id}-a`, '5000', '2026-01-10T08:00:00Z'),
      ]),
    ).toEqual({ accepted: 2, duplicates: 1, late: 0, userErrors: [] });
    expect(await record([event(subscriptionId, `${id}-a`, '5000', '2026-01-10T08:00:00Z')])).toEqual({
      accepted: 0,
      duplicates: 1,
      late: 0,
      userErrors: [],
    });

    // The period ended on 2026-02-01; its grace runs until 2026-02-04 00:00 UTC: a DRAFT, nothing issued.
    const early = await graphql(
      stack.gatewayUrl,
      `
        mutation ($k: String!) {
          renewSubscriptions(asOf: "2026-02-02", idempotencyKey: $k) {
            renewedCount
            draftCount
          }
        }
      `,
      { k: unique('run') },
    );
    expect(early.data).toEqual({ renewSubscriptions: { renewedCount: 0, draftCount: 1 } });
    expect((await invoicesOf(subscriptionId)).map((i) => i.issuedOn)).toEqual(['2026-01-01']);

    // An event of the last second of January, arriving inside the grace, lands on the period's invoice.
    expect(await record([event(subscriptionId, `${id}-c`, '3000', '2026-01-31T23:59:59Z')])).toMatchObject({
      accepted: 1,
      late: 0,
    });
    const portalView = await send('portal.UsageSummary', { subscriptionId }, portalToken);
    expect(portalView.billingSubscription).toEqual({
      id: subscriptionId,
      currentPeriod: { start: '2026-01-01', end: '2026-02-01' },
      usage: [
        {
          metric: 'api_calls',
          quantity: '12000',
          includedQuantity: '1000',
          billableQuantity: '11000',
          estimatedCharge: { amount: '101.50', currency: 'USD' },
          lastEventAt: '2026-01-31T23:59:59.000Z',
        },
      ],
    });

    // At the grace's end the renewal is issued: February's seat in advance, January's usage in arrears,
    // one line per tier used. 12,000 − 1,000 included = 11,000: 10,000 × 0.01 + 1,000 × 0.0015.
    expect(await renew('2026-02-04')).toMatchObject({ renewedCount: 1, userErrors: [] });
    const [, february] = await invoicesOf(subscriptionId);
    expect(february.lines.map((l: any) => [l.amount.amount, l.tax.amount, l.periodStart, l.usage])).toEqual([
      ['9.95', '1.89', '2026-02-01', null],
      [
        '100.00',
        '19.00',
        '2026-01-01',
        { metric: 'api_calls', quantity: '10000', unitPrice: '0.01', adjustment: false },
      ],
      [
        '1.50',
        '0.29',
        '2026-01-01',
        { metric: 'api_calls', quantity: '1000', unitPrice: '0.0015', adjustment: false },
      ],
    ]);
    expect(february).toMatchObject({
      issuedOn: '2026-02-01',
      subtotal: { amount: '111.45' },
      tax: { amount: '21.18' },
      total: { amount: '132.63' },
    });

    // A January event after January was invoiced: late, billed on the next invoice as an adjustment.
    expect(
      await record([
        event(subscriptionId, `${id}-late`, '2000.5', '2026-01-15T10:00:00Z'),
        event(subscriptionId, `${id}-feb`, '500', '2026-02-10T10:00:00Z'),
      ]),
    ).toEqual({ accepted: 2, duplicates: 0, late: 1, userErrors: [] });
    // Until the next invoice, reconciliation names January's late usage as waiting, not as leaked.
    expect(await reconcileUsage(subscriptionId)).toEqual([
      {
        kind: 'UNBILLED',
        subscriptionId,
        period: '2026-01-01 to 2026-02-01',
        metric: 'api_calls',
        recorded: '14000.5',
        invoiced: '12000',
        unbilled: '2000.5',
      },
      {
        kind: 'UNBILLED',
        subscriptionId,
        period: '2026-02-01 to 2026-03-01',
        metric: 'api_calls',
        recorded: '500',
        invoiced: '0',
        unbilled: '500',
      },
    ]);
    expect(await renew('2026-03-04')).toMatchObject({ renewedCount: 1, userErrors: [] });
    const march = (await invoicesOf(subscriptionId)).at(-1);
    // January re-rated with the late event: 13,000.5 billable → 100.00 + 3,000.5 × 0.0015 (4.50075 → 4.50)
    // = 104.50, of which 101.50 was billed: 3.00. February's 500 calls are inside the included 1,000.
    expect(march.lines.map((l: any) => [l.amount.amount, l.periodStart, l.periodEnd, l.usage])).toEqual([
      ['9.95', '2026-03-01', '2026-04-01', null],
      [
        '3.00',
        '2026-01-01',
        '2026-02-01',
        { metric: 'api_calls', quantity: '2000.5', unitPrice: null, adjustment: true },
      ],
    ]);

    // Nothing leaked: per period, usage recorded equals usage invoiced.
    expect(await reconciliation(subscriptionId)).toEqual([
      {
        subscriptionId,
        period: { start: '2026-01-01', end: '2026-02-01' },
        metric: 'api_calls',
        recorded: '14000.5',
        invoiced: '14000.5',
        unbilled: '0',
      },
      {
        subscriptionId,
        period: { start: '2026-02-01', end: '2026-03-01' },
        metric: 'api_calls',
        recorded: '500',
        invoiced: '500',
        unbilled: '0',
      },
    ]);

    expect(await reconcileUsage(subscriptionId)).toEqual([]);

    // The ERP recognises usage revenue over the period the usage belongs to: January holds its seat
    // (9.95) and all of January's usage (101.50 + 3.00).
    const january = await waitFor(
      async () => {
        const view = (await send('portal.CustomerToCash', { customerId })).customer;
        const schedule = view.subscriptions[0].revenueSchedule as {
          month: string;
          revenue: { amount: string };
        }[];
        const month = schedule.find((row) => row.month === '2026-01');
        return month?.revenue.amount === '114.45' ? month : undefined;
      },
      15_000,
      "January's revenue to include its usage",
    );
    expect(january.revenue.amount).toBe('114.45');
  });

  it('refuses bad events one by one with the field that failed, and stores the rest', async () => {
    const { subscriptionId } = await aMeteredSubscription('2026-03-01');
    const id = unique('bad');
    const answer = await record([
      event(subscriptionId, `${id}-ok`, '1.5', '2026-03-05T00:00:00Z'),
      event(subscriptionId, `${id}-neg`, '-1', '2026-03-05T00:00:00Z'),
      event(subscriptionId, `${id}-digits`, '0.0000001', '2026-03-05T00:00:00Z'),
      { ...event(subscriptionId, `${id}-metric`, '1', '2026-03-05T00:00:00Z'), metric: 'storage_gb' },
      event('6b1f3c1e-0000-4000-8000-000000000000', `${id}-sub`, '1', '2026-03-05T00:00:00Z'),
      event(subscriptionId, `${id}-future`, '1', '2026-03-10T12:06:00Z'),
      event(subscriptionId, `${id}-skew`, '1', '2026-03-10T12:04:00Z'),
      event(subscriptionId, `${id}-before`, '1', '2026-02-28T23:59:59Z'),
    ]);
    expect(answer.accepted).toBe(2);
    expect(answer.userErrors.map((e: any) => [e.code, e.field])).toEqual([
      ['INVALID_QUANTITY', 'events[1].quantity'],
      ['INVALID_QUANTITY', 'events[2].quantity'],
      ['UNKNOWN_METRIC', 'events[3].metric'],
      ['SUBSCRIPTION_NOT_FOUND', 'events[4].subscriptionId'],
      ['OCCURRED_IN_FUTURE', 'events[5].occurredAt'],
      ['OCCURRED_BEFORE_START', 'events[7].occurredAt'],
    ]);
    const summary = await send('portal.UsageSummary', { subscriptionId });
    expect(summary.billingSubscription.usage[0].quantity).toBe('2.5');

    // More than 1,000 events: refused whole, nothing stored.
    const tooMany = Array.from({ length: 1001 }, (_, i) =>
      event(subscriptionId, `${id}-many-${i}`, '1', '2026-03-05T00:00:00Z'),
    );
    const refused = await graphql(
      stack.gatewayUrl,
      operation('usage.RecordUsage'),
      { input: { events: tooMany } },
      { authorization: `Bearer ${telemetryToken}` },
    );
    expect(refused.errors?.[0]?.message).toMatch(/at most 1000/);
    expect(
      (await send('portal.UsageSummary', { subscriptionId })).billingSubscription.usage[0].quantity,
    ).toBe('2.5');

    // Exactly 1,000 in one call go through the gateway.
    const thousand = Array.from({ length: 1000 }, (_, i) =>
      event(subscriptionId, `${id}-k-${i}`, '0.001', '2026-03-06T00:00:00Z'),
    );
    expect(await record(thousand)).toEqual({ accepted: 1000, duplicates: 0, late: 0, userErrors: [] });
    expect(
      (await send('portal.UsageSummary', { subscriptionId })).billingSubscription.usage[0].quantity,
    ).toBe('3.5');
  });

  it('bills the final period of a cancelled subscription once its grace has passed', async () => {
    const { subscriptionId } = await aMeteredSubscription('2026-02-05');
    const id = unique('end');
    expect(await record([event(subscriptionId, `${id}-1`, '12000', '2026-02-10T00:00:00Z')])).toMatchObject({
      accepted: 1,
    });
    const cancelled = await graphql(
      stack.gatewayUrl,
      `
        mutation ($input: CancelSubscriptionInput!) {
          cancelSubscription(input: $input) {
            userErrors {
              code
            }
          }
        }
      `,
      {
        input: {
          subscriptionId,
          mode: 'IMMEDIATELY',
          effectiveDate: '2026-02-20',
          idempotencyKey: unique('cancel'),
        },
      },
    );
    expect(cancelled.data).toEqual({ cancelSubscription: { userErrors: [] } });
    // Usage after the end of service is refused; usage before it still counts.
    const after = await record([
      event(subscriptionId, `${id}-2`, '1', '2026-02-21T00:00:00Z'),
      event(subscriptionId, `${id}-3`, '1000', '2026-02-19T00:00:00Z'),
    ]);
    expect(after.accepted).toBe(1);
    expect(after.userErrors.map((e: any) => [e.code, e.field])).toEqual([
      ['SUBSCRIPTION_ENDED', 'events[0].occurredAt'],
    ]);

    const before = (await invoicesOf(subscriptionId)).length;
    await renew('2026-02-22'); // inside the 72 hours after 2026-02-20
    expect((await invoicesOf(subscriptionId)).length).toBe(before);
    await renew('2026-02-23');
    const final = (await invoicesOf(subscriptionId)).find(
      (i) => i.issuedOn === '2026-02-20' && String(i.number).startsWith('INV'),
    );
    // 13,000 − 1,000 included: 10,000 × 0.01 + 2,000 × 0.0015.
    expect(final).toMatchObject({ issuedOn: '2026-02-20', subtotal: { amount: '103.00' } });
    expect(final.lines.map((l: any) => [l.amount.amount, l.periodStart, l.usage?.quantity])).toEqual([
      ['100.00', '2026-02-05', '10000'],
      ['3.00', '2026-02-05', '2000'],
    ]);
    expect(await reconcileUsage(subscriptionId)).toEqual([]);
  });

  it('exposes ingestion by outcome and the age of the oldest unbilled usage as metrics', async () => {
    const billing = stack.subgraphs.find((s) => s.name === 'subscription');
    if (!billing) throw new Error('billing is not running');
    const response = await fetch(billing.url.replace(/\/graphql$/, '/metrics'));
    const families = parsePrometheusText(await response.text());
    // The tests above: 2 + 1 + 2, 2 + 1000, 1 + 1 accepted, 2 duplicates, 1 late, 6 + 1 refused.
    expect(valueOf(families, 'c2c_usage_events_total', { outcome: 'accepted' })).toBe(1009);
    expect(valueOf(families, 'c2c_usage_events_total', { outcome: 'duplicate' })).toBe(2);
    expect(valueOf(families, 'c2c_usage_events_total', { outcome: 'late' })).toBe(1);
    expect(valueOf(families, 'c2c_usage_events_total', { outcome: 'rejected' })).toBe(7);
    // Unbilled: the second subscription's March usage (its period has not ended on 2026-03-10).
    expect(valueOf(families, 'c2c_usage_oldest_unbilled_age_seconds', {})).toBe(0);
  });

  it('gives the telemetry role recordUsage and nothing else', async () => {
    const read = await graphql(
      stack.gatewayUrl,
      operation('portal.UsageSummary'),
      { subscriptionId: '6b1f3c1e-0000-4000-8000-000000000000' },
      { authorization: `Bearer ${telemetryToken}` },
    );
    expect(read.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const write = await graphql(
      stack.gatewayUrl,
      operation('usage.RecordUsage'),
      {
        input: {
          events: [event('6b1f3c1e-0000-4000-8000-000000000000', unique('x'), '1', '2026-03-01T00:00:00Z')],
        },
      },
      { authorization: `Bearer ${portalToken}` },
    );
    expect(write.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
