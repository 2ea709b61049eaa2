import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixedClock, graphql, unique, waitFor } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
import type { Stack } from '@c2c/apps/stack';
import { aSyncedSubscription } from '../support/scenarios.ts';
import { startTestStack } from '../support/stack.ts';

// Commercial amendments from the CRM, through the gateway: customer success records an expansion
// or a reduction on the account's contract in the CRM; billing applies it as a seat amendment
// (tracked like any amendment) or refuses it, and the CRM shows billing's answer and the contract
// value billing confirmed.

let stack: Stack;
let supportToken: string;
const clock = fixedClock('2026-03-10T12:00:00Z');

async function send<T = any>(name: string, variables: Record<string, unknown>): Promise<T> {
  const result = await graphql(stack.gatewayUrl, operation(name), variables);
  if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

const CHANGE_FIELDS = `id status seats effectiveDate refusalCode refusalMessage correlationId
  amendment { id } subscription { id seats } customer { id contractValue { amount currency } }`;

async function recordChange(input: Record<string, unknown>, token = supportToken) {
  return graphql<any>(
    stack.gatewayUrl,
    `mutation Record($input: RecordContractChangeInput!) {
       recordContractChange(input: $input) { contractChange { ${CHANGE_FIELDS} } userErrors { code field message } }
     }`,
    { input: { idempotencyKey: unique('change'), ...input } },
    { authorization: `Bearer ${token}` },
  );
}

const change = async (id: string) =>
  (
    await graphql<any>(
      stack.gatewayUrl,
      `query Change($id: ID!) { contractChange(id: $id) { ${CHANGE_FIELDS} } }`,
      {
        id,
      },
    )
  ).data?.contractChange;

const untilChange = (id: string, status: string) =>
  waitFor(
    async () => {
      const current = await change(id);
      return current?.status === status ? current : undefined;
    },
    20_000,
    `contract change ${id} to be ${status}`,
  );

beforeAll(async () => {
  stack = await startTestStack({ clock, retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 } });
  supportToken = await stack.token('support');
});
afterAll(() => stack?.stop());

describe('commercial amendments recorded in the CRM', () => {
  it('an expansion is applied by billing as a tracked seat amendment; the CRM shows the confirmed contract value', async () => {
    const { customerId, subscriptionId } = await aSyncedSubscription(send, 3, { timeoutMs: 15_000 });
    const recorded = await recordChange({
      subscriptionId,
      seats: 5,
      effectiveDate: '2026-03-10',
      reason: 'expansion: two new hires',
    });
    expect(recorded.errors).toBeUndefined();
    expect(recorded.data.recordContractChange.userErrors).toEqual([]);
    const id = recorded.data.recordContractChange.contractChange.id;

    const accepted = await untilChange(id, 'ACCEPTED');
    expect(accepted).toMatchObject({ seats: 5, effectiveDate: '2026-03-10', refusalCode: null });
    // The amendment is billing's, tracked as any other, and it carries the CRM request's correlation id.
    const amendment = await waitFor(
      async () => {
        const a = (await send('support.AmendmentStatus', { id: accepted.amendment.id })).amendment;
        return a.status === 'COMPLETED' ? a : undefined;
      },
      20_000,
      'the amendment to complete',
    );
    expect(amendment).toMatchObject({
      correlationId: accepted.correlationId,
      subscription: {
        id: subscriptionId,
        seats: 5,
        // The contract value billing confirmed, as the CRM shows it: 5 seats × 9.95 × 12.
        customer: { id: customerId, contractValue: { amount: '597.00', currency: 'USD' } },
      },
    });
    expect((await change(id)).customer.contractValue).toEqual({ amount: '597.00', currency: 'USD' });
  });

  it("a refused change is visible in the CRM with billing's reason, and nothing changed", async () => {
    const { subscriptionId } = await aSyncedSubscription(send, 2, { timeoutMs: 15_000 });
    const recorded = await recordChange({ subscriptionId, seats: 4, effectiveDate: '2026-06-15' });
    const id = recorded.data.recordContractChange.contractChange.id;
    const refused = await untilChange(id, 'REFUSED');
    expect(refused).toMatchObject({
      amendment: null,
      refusalCode: 'EFFECTIVE_DATE_OUT_OF_PERIOD',
      refusalMessage: expect.stringContaining('2026-06-15'),
      subscription: { id: subscriptionId, seats: 2 },
    });
    const amendments = await stack.database.db
      .withSchema('subscription')
      .selectFrom('amendment')
      .select('id')
      .where('subscription_id', '=', subscriptionId)
      .execute();
    expect(amendments).toEqual([]);
  });

  it('answers userErrors for a subscription the CRM does not know, and FORBIDDEN for a sales token', async () => {
    const unknown = await recordChange({
      subscriptionId: '01a24814-59c4-7563-b0f0-2c6d32706753',
      seats: 2,
      effectiveDate: '2026-03-10',
    });
    expect(unknown.data.recordContractChange).toMatchObject({
      contractChange: null,
      userErrors: [{ code: 'SUBSCRIPTION_NOT_FOUND', field: 'subscriptionId' }],
    });
    const sales = await recordChange(
      { subscriptionId: '01a24814-59c4-7563-b0f0-2c6d32706753', seats: 2, effectiveDate: '2026-03-10' },
      await stack.token('sales'),
    );
    expect(sales.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
