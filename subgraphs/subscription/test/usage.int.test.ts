import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, graphql, startTestSubgraphs, unique, type TestSubgraphs } from '@c2c/platform/testing';
import { buildSubscriptionSubgraph } from '../src/index.ts';
import { addBillTo, CREATE_SUBSCRIPTION, outboxFor, writeCounts } from './support.ts';

// Usage in billing alone (docs/usage.md): metered plans refused when malformed, a cancellation at
// period end that waits for the final period's grace and bills its usage, events of later periods.

const OPERATIONS = join(import.meta.dirname, '..', '..', '..', 'schema', 'operations');
const CREATE_METERED_PLAN = readFileSync(join(OPERATIONS, 'admin.CreateMeteredPlan.graphql'), 'utf8');
const RECORD_USAGE = readFileSync(join(OPERATIONS, 'usage.RecordUsage.graphql'), 'utf8');
const TELEMETRY = { principal: { sub: 'telemetry', role: 'telemetry', scopes: ['c2c:usage'] } };
const RUN = `mutation ($asOf: Date!, $k: String!) { renewSubscriptions(asOf: $asOf, idempotencyKey: $k) {
  renewedCount draftCount userErrors { code } } }`;
const CANCEL = `mutation ($input: CancelSubscriptionInput!) { cancelSubscription(input: $input) { userErrors { code } } }`;
const STATE = `query ($id: ID!) { billingSubscription(id: $id) { status currentPeriod { start end }
  amendments { kind invoice { id total { amount } lines { amount { amount } usageMetric usageQuantity periodStart } } } } }`;

let stack: TestSubgraphs;
let billing: string;
const admin = { 'x-c2c-caller': 'admin' };
type Data = any;

const usagePrice = (overrides: Record<string, unknown> = {}) => ({
  metric: 'storage_gb',
  includedQuantity: '10',
  tiers: [{ upTo: null, unitPrice: { amount: '0.25', currency: 'EUR' } }],
  ...overrides,
});

async function createPlan(usagePrices: unknown[]) {
  const answer = await graphql<Data>(
    billing,
    CREATE_METERED_PLAN,
    {
      input: {
        code: unique('STORE')
          .toUpperCase()
          .replace(/[^A-Z0-9_-]/g, '-'),
        name: 'Storage',
        billingPeriod: 'MONTH',
        unitPrice: { amount: '5.00', currency: 'EUR' },
        usagePrices,
        idempotencyKey: unique(),
      },
    },
    admin,
  );
  expect(answer.errors).toBeUndefined();
  return answer.data.createPlan;
}

beforeAll(async () => {
  stack = await startTestSubgraphs([buildSubscriptionSubgraph], {
    clock: fixedClock('2026-06-15T12:00:00Z'),
  });
  billing = stack.url('subscription');
});
afterAll(() => stack?.close());

describe('metered plans', () => {
  it('refuses malformed metered prices with the field that is wrong, and stores nothing', async () => {
    const before = await writeCounts(stack);
    const cases: [unknown[], string, string][] = [
      [[usagePrice({ metric: 'Storage GB' })], 'INVALID_USAGE_PRICE', 'usagePrices[0].metric'],
      [[usagePrice(), usagePrice()], 'INVALID_USAGE_PRICE', 'usagePrices[1].metric'],
      [[usagePrice({ includedQuantity: '-1' })], 'INVALID_QUANTITY', 'usagePrices[0].includedQuantity'],
      [
        [usagePrice({ tiers: [{ upTo: null, unitPrice: { amount: '0.000000001', currency: 'EUR' } }] })],
        'INVALID_AMOUNT',
        'usagePrices[0].tiers[0].unitPrice.amount',
      ],
      [
        [usagePrice({ tiers: [{ upTo: null, unitPrice: { amount: '0.25', currency: 'USD' } }] })],
        'CURRENCY_MISMATCH',
        'usagePrices[0].tiers[0].unitPrice.currency',
      ],
    ];
    for (const [prices, code, field] of cases) {
      const payload = await createPlan(prices);
      expect(payload.plan).toBeNull();
      expect(payload.userErrors.map((e: Data) => [e.code, e.field])).toEqual([[code, field]]);
    }
    expect(await writeCounts(stack)).toEqual(before);
  });
});

describe('usage of a subscription cancelled at period end', () => {
  it('keeps it active through the final period grace, then cancels it with a usage invoice', async () => {
    const customerId = await addBillTo(stack, { country: 'FR' });
    const plan = await createPlan([usagePrice()]);
    expect(plan.userErrors).toEqual([]);
    const created = await graphql<Data>(
      billing,
      CREATE_SUBSCRIPTION,
      {
        input: {
          customerId,
          planCode: plan.plan.code,
          seats: 1,
          startDate: '2026-05-01',
          idempotencyKey: unique(),
        },
      },
      admin,
    );
    const id = created.data.createSubscription.subscription.id as string;
    const cancelled = await graphql<Data>(
      billing,
      CANCEL,
      { input: { subscriptionId: id, mode: 'AT_PERIOD_END', idempotencyKey: unique() } },
      admin,
    );
    expect(cancelled.data.cancelSubscription.userErrors).toEqual([]);

    const record = async (events: Data[]) =>
      (await graphql<Data>(billing, RECORD_USAGE, { input: { events } }, {}, TELEMETRY)).data.recordUsage;
    const event = (key: string, quantity: string, occurredAt: string) => ({
      id: `${id}-${key}`,
      subscriptionId: id,
      metric: 'storage_gb',
      quantity,
      occurredAt,
    });
    // May is the final period; a June event lies after the cancellation date.
    expect(
      await record([event('a', '30.5', '2026-05-20T00:00:00Z'), event('b', '1', '2026-06-02T00:00:00Z')]),
    ).toMatchObject({
      accepted: 1,
      userErrors: [{ code: 'SUBSCRIPTION_ENDED', field: 'events[1].occurredAt' }],
    });

    const run = async (asOf: string) =>
      (await graphql<Data>(billing, RUN, { asOf, k: unique('run') }, admin)).data.renewSubscriptions;
    expect(await run('2026-06-03')).toMatchObject({ renewedCount: 0, draftCount: 1, userErrors: [] });
    const waiting = (await graphql<Data>(billing, STATE, { id }, admin)).data.billingSubscription;
    expect(waiting.status).toBe('ACTIVE');
    // Still on time: the grace of May runs until 2026-06-04 00:00 UTC.
    expect(await record([event('c', '9.5', '2026-05-31T23:00:00Z')])).toMatchObject({ accepted: 1, late: 0 });

    expect(await run('2026-06-04')).toMatchObject({ renewedCount: 0, draftCount: 0, userErrors: [] });
    const ended = (await graphql<Data>(billing, STATE, { id }, admin)).data.billingSubscription;
    expect(ended.status).toBe('CANCELLED');
    const cancellation = ended.amendments.find((a: Data) => a.kind === 'CANCELLATION');
    // 40 GB − 10 included = 30 × 0.25 = 7.50, French VAT 20 %: 9.00.
    expect(cancellation.invoice).toMatchObject({
      total: { amount: '9.00' },
      lines: [
        {
          amount: { amount: '7.50' },
          usageMetric: 'storage_gb',
          usageQuantity: '30',
          periodStart: '2026-05-01',
        },
      ],
    });
    const [issued] = (await outboxFor(stack, [cancellation.invoice.id])).filter(
      (e) => e.type === 'invoice.issued',
    );
    expect(issued?.data.lines).toEqual([
      expect.objectContaining({
        amountMinor: 750,
        periodStart: '2026-05-01',
        periodEnd: '2026-06-01',
        usageMetric: 'storage_gb',
        usageQuantity: '30',
        usageAdjustment: false,
      }),
    ]);
  });
});
