import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, graphql, startTestSubgraphs, unique, type TestSubgraphs } from '@c2c/platform/testing';
import { buildSubscriptionSubgraph } from '../src/index.ts';
import { addBillTo, AMEND, aPlan, CREATE_PLAN, CREATE_SUBSCRIPTION } from './support.ts';

const RENEW_WITH_FAILURES = /* GraphQL */ `
  mutation ($asOf: Date!, $idempotencyKey: String!) {
    renewSubscriptions(asOf: $asOf, idempotencyKey: $idempotencyKey) {
      renewedCount
      failures {
        subscriptionId
        code
        message
      }
      userErrors {
        code
      }
    }
  }
`;
const PERIOD = /* GraphQL */ `
  query ($id: ID!) {
    billingSubscription(id: $id) {
      seats
      currentPeriod {
        start
      }
    }
  }
`;

type Data = any;

describe('billing run isolation (docs/billing-rules.md §4)', () => {
  let stack: TestSubgraphs;
  let url: string;
  let planCode: string;
  const headers = { 'x-c2c-caller': 'billing-run' };

  async function aSubscription(seats: number) {
    const customerId = await addBillTo(stack, { country: 'DE' });
    const created = (
      await graphql<Data>(
        url,
        CREATE_SUBSCRIPTION,
        { input: { customerId, planCode, seats, startDate: '2026-03-01', idempotencyKey: unique('sub') } },
        headers,
      )
    ).data?.createSubscription;
    expect(created.userErrors).toEqual([]);
    return created.subscription.id as string;
  }
  const periodOf = async (id: string) => (await graphql<Data>(url, PERIOD, { id })).data?.billingSubscription;
  const renew = async (asOf: string) =>
    (await graphql<Data>(url, RENEW_WITH_FAILURES, { asOf, idempotencyKey: unique('run') }, headers)).data
      ?.renewSubscriptions;

  beforeAll(async () => {
    stack = await startTestSubgraphs([buildSubscriptionSubgraph], {
      clock: fixedClock('2026-03-10T12:00:00Z'),
    });
    url = stack.url('subscription');
    // 10^12 USD a seat: 10 seats bill 10^15 minor units, the most billing can hold.
    const plan = aPlan({ unitPrice: { amount: '1000000000000.00', currency: 'USD' }, minSeats: 1 });
    expect(
      (await graphql<Data>(url, CREATE_PLAN, { input: plan }, headers)).data?.createPlan.userErrors,
    ).toEqual([]);
    planCode = plan.code;
  });
  afterAll(() => stack.close());

  it('refuses a seat change whose renewal could not be billed, scheduled or effective now', async () => {
    const id = await aSubscription(1);
    for (const effectiveDate of ['2026-04-01', '2026-03-10']) {
      const payload = (
        await graphql<Data>(
          url,
          AMEND,
          { input: { subscriptionId: id, seats: 11, effectiveDate, idempotencyKey: unique('amend') } },
          headers,
        )
      ).data?.amendSubscription;
      expect(payload.userErrors).toEqual([
        expect.objectContaining({ code: 'AMOUNT_OUT_OF_RANGE', field: 'seats' }),
      ]);
    }
  });

  it('renews the others when one subscription cannot be billed, reports it and leaves it for the next run', async () => {
    const good = await aSubscription(2);
    const bad = await aSubscription(1);
    // A seat change scheduled before it was validated (legacy data): 11 seats renew over the limit.
    await stack.database.db
      .withSchema('subscription')
      .updateTable('subscription')
      .set({ pending_seats: 11 })
      .where('id', '=', bad)
      .execute();

    const run = await renew('2026-04-01');
    expect(run.userErrors).toEqual([]);
    expect(run.failures).toEqual([
      expect.objectContaining({ subscriptionId: bad, code: 'AMOUNT_OUT_OF_RANGE' }),
    ]);
    expect(run.renewedCount).toBeGreaterThanOrEqual(1);
    expect(await periodOf(good)).toMatchObject({ seats: 2, currentPeriod: { start: '2026-04-01' } });
    expect(await periodOf(bad)).toMatchObject({ seats: 1, currentPeriod: { start: '2026-03-01' } });

    const metrics = await stack.running[0]!.metrics.registry.metrics();
    expect(metrics).toMatch(/c2c_billing_run_failures\{[^}]*code="AMOUNT_OUT_OF_RANGE"[^}]*\} 1/);

    // Corrected, it renews on the next run.
    await stack.database.db
      .withSchema('subscription')
      .updateTable('subscription')
      .set({ pending_seats: 9 })
      .where('id', '=', bad)
      .execute();
    const next = await renew('2026-04-01');
    expect(next.failures).toEqual([]);
    expect(await periodOf(bad)).toMatchObject({ seats: 9, currentPeriod: { start: '2026-04-01' } });
  });
});
