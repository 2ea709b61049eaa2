import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixedClock,
  graphql,
  propertySettings,
  startTestSubgraphs,
  unique,
  waitFor,
  type TestSubgraphs,
} from '@c2c/platform/testing';
import { buildSubscriptionSubgraph } from '@c2c/subscription';

// Property-based test of usage billing (docs/usage.md, DOMAIN.md "Usage"): random streams of usage
// events for one metered subscription — duplicates, delays past the grace and past invoicing,
// arrival out of order — interleaved with billing runs as of random dates (inside and after each
// period's grace). At the end (one last run bills what is left), per period: the quantity invoiced
// (tiers and adjustments) equals the quantity recorded, and the amount invoiced equals the period's
// usage rated by an independent reference rating. The answers' counts (accepted, duplicates, late)
// match the model. A fixed seed by default; FC_SEED=<n>|random and FC_RUNS=<n> run it longer.
const settings = propertySettings(6);

const OPERATIONS = join(import.meta.dirname, '..', '..', 'schema', 'operations');
const CREATE_PLAN = readFileSync(join(OPERATIONS, 'admin.CreateMeteredPlan.graphql'), 'utf8');
const CREATE_SUBSCRIPTION = readFileSync(join(OPERATIONS, 'admin.CreateSubscription.graphql'), 'utf8');
const RENEW = readFileSync(join(OPERATIONS, 'billing.RenewSubscriptions.graphql'), 'utf8');
const RECORD_USAGE = readFileSync(join(OPERATIONS, 'usage.RecordUsage.graphql'), 'utf8');
const INVOICE_LINES = `query ($id: ID!) { billingSubscription(id: $id) { invoices(first: 100) { nodes {
  lines { amount { amount } periodStart usageMetric usageQuantity } } } } }`;

const TODAY = '2026-12-01';
/** Monthly periods from 2026-01-01; events fall in the first PERIODS of them. */
const PERIODS = 5;
const periodStart = (k: number) => `2026-${String(k + 1).padStart(2, '0')}-01`;
const TELEMETRY = { principal: { sub: 'telemetry', role: 'telemetry', scopes: ['c2c:usage'] } };
const admin = { 'x-c2c-caller': 'admin' };

type Data = any;

/** One usage event of the stream: its period, a second within it, a quantity in micro-units. */
interface StreamEvent {
  key: number;
  period: number;
  second: number;
  micro: number;
}

const tiers = fc
  .tuple(
    fc.integer({ min: 0, max: 5_000 }), // included
    fc.uniqueArray(fc.integer({ min: 1, max: 20_000 }), { minLength: 0, maxLength: 2 }), // bounds
    fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 3, maxLength: 3 }), // prices, 10^-6 USD
  )
  .map(([included, bounds, prices]) => ({
    included,
    tiers: [...[...bounds].sort((a, b) => a - b), null].map((upTo, i) => ({ upTo, priceMicro: prices[i]! })),
  }));

const scenario = fc.record({
  price: tiers,
  events: fc.array(
    fc.record({
      period: fc.integer({ min: 0, max: PERIODS - 1 }),
      second: fc.integer({ min: 0, max: 27 * 86_400 }),
      micro: fc.integer({ min: 0, max: 3_000_000_000 }),
    }),
    { minLength: 1, maxLength: 40 },
  ),
  // Deliveries: a shuffle of the events with some repeated (the same id, the same payload).
  order: fc.array(fc.nat(), { maxLength: 40 }),
  duplicates: fc.array(fc.nat(), { maxLength: 10 }),
  steps: fc.array(
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({ type: fc.constant('send' as const), take: fc.integer({ min: 1, max: 12 }) }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          type: fc.constant('renew' as const),
          afterDays: fc.integer({ min: 0, max: 5 }),
        }),
      },
    ),
    { minLength: 1, maxLength: 12 },
  ),
});

/** The reference rating, written apart from the code under test: graduated tiers, HALF_UP per tier to cents. */
function referenceRating(
  price: { included: number; tiers: { upTo: number | null; priceMicro: number }[] },
  micro: bigint,
) {
  let billable = micro - BigInt(price.included) * 1_000_000n;
  if (billable < 0n) billable = 0n;
  let lower = 0n;
  let total = 0n;
  for (const tier of price.tiers) {
    if (billable <= lower) break;
    const upper = tier.upTo === null ? billable : BigInt(tier.upTo) * 1_000_000n;
    const inTier = (upper < billable ? upper : billable) - lower;
    // quantity (10^-6) × price (10^-6 USD) = 10^-12 USD; cents = /10^10, half up.
    const exact = inTier * BigInt(tier.priceMicro);
    total += (exact * 2n + 10n ** 10n) / (2n * 10n ** 10n);
    if (tier.upTo === null) break;
    lower = upper;
  }
  return total;
}

const cents = (amount: string) => {
  const [whole, fraction = ''] = amount.split('.');
  return BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0'));
};
const micro = (quantity: string) => {
  const [whole, fraction = ''] = quantity.split('.');
  return BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
};
const decimalMicro = (value: number | bigint) => {
  const v = BigInt(value);
  return `${v / 1_000_000n}.${String(v % 1_000_000n).padStart(6, '0')}`;
};

describe('usage billing (property)', () => {
  let stack: TestSubgraphs;
  let billing: string;
  const db = () => stack.database.db;
  const drained = () =>
    waitFor(
      async () => {
        const { rows } = await sql<{ busy: number }>`select
            (select count(*) from subscription.outbox where published_at is null)
          + (select count(*) from bus.delivery where state = 'pending') as busy`.execute(db());
        return Number(rows[0]?.busy) === 0;
      },
      20_000,
      'events to drain',
    );

  beforeAll(async () => {
    stack = await startTestSubgraphs([buildSubscriptionSubgraph], {
      clock: fixedClock(`${TODAY}T12:00:00Z`),
    });
    billing = stack.url('subscription');
  });
  afterAll(() => stack?.close());

  it('invoices exactly the usage recorded for each period, whatever the arrival order, duplicates and delays', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const customerId = randomUUID();
        await stack.transport.publish([
          {
            specversion: '1.0',
            id: randomUUID(),
            source: 'customer',
            type: 'customer.created',
            subject: customerId,
            time: new Date().toISOString(),
            datacontenttype: 'application/json',
            data: {
              id: customerId,
              name: unique('Usage'),
              email: 'u@example.com',
              status: 'ACTIVE',
              businessUnit: 'EMEA',
              segment: null,
              country: 'DE',
              region: null,
              parentId: null,
              version: 1,
            },
            correlationid: randomUUID(),
            aggregateversion: 1,
          },
        ]);
        await drained();
        const planCode = unique('USAGE')
          .toUpperCase()
          .replace(/[^A-Z0-9_-]/g, '-');
        const plan = await graphql<Data>(
          billing,
          CREATE_PLAN,
          {
            input: {
              code: planCode,
              name: 'Usage',
              billingPeriod: 'MONTH',
              unitPrice: { amount: '1.00', currency: 'USD' },
              usagePrices: [
                {
                  metric: 'api_calls',
                  includedQuantity: String(s.price.included),
                  tiers: s.price.tiers.map((tier) => ({
                    upTo: tier.upTo === null ? null : String(tier.upTo),
                    unitPrice: { amount: decimalMicro(tier.priceMicro), currency: 'USD' },
                  })),
                },
              ],
              idempotencyKey: unique(),
            },
          },
          admin,
        );
        expect(plan.errors).toBeUndefined();
        expect(plan.data?.createPlan.userErrors).toEqual([]);
        const created = await graphql<Data>(
          billing,
          CREATE_SUBSCRIPTION,
          { input: { customerId, planCode, seats: 1, startDate: periodStart(0), idempotencyKey: unique() } },
          admin,
        );
        expect(created.data?.createSubscription.userErrors).toEqual([]);
        const subscriptionId = created.data.createSubscription.subscription.id as string;

        // Deliveries: every event once in a shuffled order, then some again.
        const stream: StreamEvent[] = s.events.map((e, key) => ({ key, ...e }));
        const shuffled = [...stream];
        for (const [i, r] of s.order.entries()) {
          const a = i % shuffled.length;
          const b = r % shuffled.length;
          [shuffled[a], shuffled[b]] = [shuffled[b]!, shuffled[a]!];
        }
        const deliveries = [...shuffled, ...s.duplicates.map((d) => stream[d % stream.length]!)];
        const ids = new Map(stream.map((e) => [e.key, unique('evt')]));
        const toInput = (e: StreamEvent) => ({
          id: ids.get(e.key),
          subscriptionId,
          metric: 'api_calls',
          quantity: decimalMicro(e.micro),
          occurredAt: new Date(
            Date.parse(`${periodStart(e.period)}T00:00:00Z`) + e.second * 1000,
          ).toISOString(),
        });

        // The model: which periods are invoiced (the subscription's index), which ids were seen.
        let renewedThrough = 0; // periods < this one are invoiced
        let asOfDay = 0;
        const seen = new Set<number>();
        const expected = { accepted: 0, duplicates: 0, late: 0 };
        const got = { accepted: 0, duplicates: 0, late: 0 };
        let next = 0;
        const send = async (batch: StreamEvent[]) => {
          if (batch.length === 0) return;
          const answer = await graphql<Data>(
            billing,
            RECORD_USAGE,
            { input: { events: batch.map(toInput) } },
            {},
            TELEMETRY,
          );
          expect(answer.errors).toBeUndefined();
          expect(answer.data.recordUsage.userErrors).toEqual([]);
          for (const e of batch) {
            if (seen.has(e.key)) expected.duplicates += 1;
            else {
              seen.add(e.key);
              expected.accepted += 1;
              if (e.period < renewedThrough) expected.late += 1;
            }
          }
          got.accepted += answer.data.recordUsage.accepted;
          got.duplicates += answer.data.recordUsage.duplicates;
          got.late += answer.data.recordUsage.late;
        };
        const renew = async (asOf: string) => {
          const run = await graphql<Data>(billing, RENEW, { asOf, idempotencyKey: unique('run') }, admin);
          expect(run.errors).toBeUndefined();
          expect(run.data?.renewSubscriptions.userErrors).toEqual([]);
        };
        for (const step of s.steps) {
          if (step.type === 'send') {
            await send(deliveries.slice(next, next + step.take));
            next += step.take;
          } else {
            // A run as of some days after the end of the next period to renew: inside the grace
            // (0–2 days) nothing is issued, from 3 days on it is.
            const end = Date.parse(`${periodStart(renewedThrough + 1)}T00:00:00Z`);
            const asOf = new Date(Math.max(end + step.afterDays * 86_400_000, asOfDay))
              .toISOString()
              .slice(0, 10);
            asOfDay = Date.parse(`${asOf}T00:00:00Z`);
            await renew(asOf);
            if (step.afterDays >= 3) renewedThrough += 1;
          }
        }
        await send(deliveries.slice(next));
        // One last run bills everything left: the grace of period PERIODS + 1 has passed.
        await renew(`2026-${String(PERIODS + 2).padStart(2, '0')}-10`);

        expect(got).toEqual(expected);
        const invoices = await graphql<Data>(billing, INVOICE_LINES, { id: subscriptionId }, admin);
        expect(invoices.errors).toBeUndefined();
        const lines = (invoices.data.billingSubscription.invoices.nodes as Data[]).flatMap((n) => n.lines);
        for (let k = 0; k < PERIODS; k += 1) {
          const recorded = stream.filter((e) => e.period === k).reduce((sum, e) => sum + BigInt(e.micro), 0n);
          const usageLines = lines.filter(
            (l: Data) => l.usageMetric === 'api_calls' && l.periodStart === periodStart(k),
          );
          const invoicedAmount = usageLines.reduce(
            (sum: bigint, l: Data) => sum + cents(l.amount.amount),
            0n,
          );
          expect({ period: k, amount: invoicedAmount }).toEqual({
            period: k,
            amount: referenceRating(s.price, recorded),
          });
          const charged = await db()
            .withSchema('subscription')
            .selectFrom('usage_charge')
            .select(sql<string>`coalesce(sum(quantity_micro), 0)::text`.as('q'))
            .where('subscription_id', '=', subscriptionId)
            .where('period_start', '=', periodStart(k))
            .executeTakeFirstOrThrow();
          expect({ period: k, quantity: BigInt(charged.q) }).toEqual({ period: k, quantity: recorded });
          // Tier lines carry their quantity; the sum of tier quantities is the billable quantity.
          const tierQuantity = usageLines.reduce((sum: bigint, l: Data) => sum + micro(l.usageQuantity), 0n);
          expect(tierQuantity).toBeLessThanOrEqual(recorded);
        }
      }),
      settings,
    );
  });
});
