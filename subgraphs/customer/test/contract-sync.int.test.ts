import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '@c2c/platform/events';
import { graphql, startTestSubgraphs, unique, waitFor, type TestSubgraphs } from '@c2c/platform/testing';
import { buildCustomerSubgraph } from '../src/index.ts';

const CREATE = /* GraphQL */ `
  mutation ($input: CreateCustomerInput!) {
    createCustomer(input: $input) {
      customer {
        id
      }
      userErrors {
        code
      }
    }
  }
`;

function subscriptionEvent(
  type: string,
  data: Record<string, unknown>,
  correlationid = randomUUID(),
): CloudEvent<Record<string, unknown>> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'subscription',
    type,
    subject: String(data.id),
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
    correlationid,
    aggregateversion: Number(data.version),
  };
}

describe('customer.contract-value acknowledgements', () => {
  let stack: TestSubgraphs;
  let url: string;

  beforeAll(async () => {
    stack = await startTestSubgraphs([buildCustomerSubgraph], {
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
    });
    url = stack.url('customer');
  });
  afterAll(() => stack.close());

  const outbox = (subject: string) =>
    stack.database.db
      .withSchema('customer')
      .selectFrom('outbox')
      .select(['type', 'data', 'correlation_id', 'causation_id', 'aggregate_version'])
      .where('subject', '=', subject)
      .orderBy('seq')
      .execute();

  async function aCustomer(): Promise<string> {
    const result = await graphql<any>(url, CREATE, {
      input: {
        name: unique('Acme'),
        email: 'billing@acme.example',
        country: 'DE',
        businessUnit: 'EMEA',
        idempotencyKey: unique('key'),
      },
    });
    return result.data.createCustomer.customer.id;
  }

  const aSubscription = (customerId: string, overrides: Record<string, unknown> = {}) => ({
    id: randomUUID(),
    customerId,
    planCode: 'PRO',
    billingPeriod: 'MONTH',
    status: 'ACTIVE',
    seats: 3,
    unitPriceMinor: 995,
    currency: 'USD',
    startDate: '2026-03-01',
    currentPeriod: { start: '2026-03-01', end: '2026-04-01' },
    version: 1,
    ...overrides,
  });

  it('announces contract.synced with the new contract value, the amendment and the causing event', async () => {
    const customerId = await aCustomer();
    const subscription = aSubscription(customerId);
    const created = subscriptionEvent('subscription.created', subscription);
    const amendmentId = randomUUID();
    const amended = subscriptionEvent('subscription.amended', {
      ...subscription,
      seats: 4,
      version: 2,
      amendmentId,
    });
    await stack.transport.publish([created, amended]);
    const rows = await waitFor(async () => {
      const found = await outbox(subscription.id);
      return found.length === 2 ? found : undefined;
    });
    expect(rows).toEqual([
      {
        type: 'contract.synced',
        data: {
          subscriptionId: subscription.id,
          customerId,
          subscriptionVersion: 1,
          contractValueMinor: 35820, // 3 × 9.95 × 12
          currency: 'USD',
        },
        correlation_id: created.correlationid,
        causation_id: created.id,
        aggregate_version: 1,
      },
      {
        type: 'contract.synced',
        data: {
          subscriptionId: subscription.id,
          customerId,
          subscriptionVersion: 2,
          amendmentId,
          contractValueMinor: 47760, // 4 × 9.95 × 12
          currency: 'USD',
        },
        correlation_id: amended.correlationid,
        causation_id: amended.id,
        aggregate_version: 2,
      },
    ]);
  });

  it('acknowledges a stale version too: the newer one applied already covers it', async () => {
    const customerId = await aCustomer();
    const subscription = aSubscription(customerId, { version: 5, seats: 10 });
    await stack.transport.publish([subscriptionEvent('subscription.renewed', subscription)]);
    await waitFor(async () => (await outbox(subscription.id)).length === 1);
    const amendmentId = randomUUID();
    await stack.transport.publish([
      subscriptionEvent('subscription.amended', { ...subscription, version: 4, seats: 2, amendmentId }),
    ]);
    const rows = await waitFor(async () => {
      const found = await outbox(subscription.id);
      return found.length === 2 ? found : undefined;
    });
    expect(rows[1]?.data).toEqual({
      subscriptionId: subscription.id,
      customerId,
      subscriptionVersion: 4,
      amendmentId,
      contractValueMinor: 119400, // still 10 seats
      currency: 'USD',
    });
  });

  it('announces contractsync.failed from the dead-letter hook when the consumer gives up', async () => {
    const customerId = await aCustomer();
    const amendmentId = randomUUID();
    // A status the CRM does not know: the event fails validation on every attempt.
    const poison = subscriptionEvent('subscription.amended', {
      ...aSubscription(customerId),
      status: 'PAUSED',
      version: 2,
      amendmentId,
    });
    await stack.transport.publish([poison]);
    const dead = await waitFor(() =>
      stack.database.db
        .withSchema('customer')
        .selectFrom('dead_letter')
        .selectAll()
        .where('event_id', '=', poison.id)
        .executeTakeFirst(),
    );
    expect(dead).toMatchObject({ consumer: 'customer.contract-value', attempts: 2 });
    expect(await outbox(poison.subject)).toEqual([
      {
        type: 'contractsync.failed',
        data: { subscriptionId: poison.subject, amendmentId, error: dead?.error, attempts: 2 },
        correlation_id: poison.correlationid,
        causation_id: poison.id,
        aggregate_version: null,
      },
    ]);
  });
});
