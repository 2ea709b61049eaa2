import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@c2c/platform/core';
import { applyBatch, applyOnce, type CloudEvent } from '@c2c/platform/events';
import {
  graphql,
  startTestSubgraphs,
  statementsSent,
  unique,
  waitFor,
  type TestSubgraphs,
} from '@c2c/platform/testing';
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

  describe('a batch of subscription events (consumers in batches on NATS)', () => {
    const consumerOptions = () => {
      const deps = {
        db: stack.database.db,
        log: silentLogger(),
        clock: { now: () => new Date() },
        afterCommit: () => {},
        env: {},
      };
      const handlers = buildCustomerSubgraph(deps).consumers['customer.contract-value']!;
      return {
        db: deps.db,
        schema: 'customer',
        consumer: 'customer.contract-value',
        handlers,
        log: deps.log,
      };
    };

    /**
     * Two subscriptions of one customer — created, one amended, a stale version of it again under
     * a new event id, the other cancelled — and a subscription of a customer the CRM does not have.
     */
    async function scenario() {
      const customerId = await aCustomer();
      const first = aSubscription(customerId);
      const second = aSubscription(customerId, { billingPeriod: 'YEAR', seats: 7, unitPriceMinor: 12_345 });
      const stranger = aSubscription(randomUUID());
      const events = [
        subscriptionEvent('subscription.created', first),
        subscriptionEvent('subscription.created', second),
        subscriptionEvent('subscription.amended', {
          ...first,
          seats: 5,
          version: 2,
          amendmentId: randomUUID(),
        }),
        subscriptionEvent('subscription.amended', { ...first, seats: 9, version: 1 }),
        subscriptionEvent('subscription.cancelled', { ...second, status: 'CANCELLED', version: 2 }),
        subscriptionEvent('subscription.created', stranger),
      ];
      return { customerId, subscriptions: [first.id, second.id, stranger.id], events };
    }

    /** The announcements in order, with the ids replaced by their positions, and the customer's value. */
    async function outcome({ customerId, subscriptions }: Awaited<ReturnType<typeof scenario>>) {
      const rows = await stack.database.db
        .withSchema('customer')
        .selectFrom('outbox')
        .select(['data'])
        .where('subject', 'in', subscriptions)
        .orderBy('seq')
        .execute();
      const customer = await stack.database.db
        .withSchema('customer')
        .selectFrom('customer')
        .select(['contract_value_minor', 'contract_currency'])
        .where('id', '=', customerId)
        .executeTakeFirstOrThrow();
      return {
        announced: rows.map(({ data }): Record<string, unknown> => {
          const { subscriptionId, customerId: owner, amendmentId, ...rest } = data as Record<string, unknown>;
          return {
            ...rest,
            subscription: (subscriptions as string[]).indexOf(subscriptionId as string),
            known: owner === customerId,
            amended: amendmentId !== undefined,
          };
        }),
        customer: { ...customer, contract_value_minor: Number(customer.contract_value_minor) },
      };
    }

    it('applies them together with the same announcements and values as one at a time', async () => {
      const one = await scenario();
      for (const event of one.events) await applyOnce(consumerOptions(), event);
      const together = await scenario();
      expect(await applyBatch(consumerOptions(), together.events, async () => {})).toBe(6);
      const expected = await outcome(one);
      expect(await outcome(together)).toEqual(expected);
      // 3 × 9.95 × 12 = 358.20, + 7 × 123.45 = 1,222.35, the first at 5 seats 1,461.15, the stale
      // version changes nothing, the second cancelled 597.00; the stranger's value is unknown.
      expect(expected.announced.map((a) => a.contractValueMinor)).toEqual([
        35_820,
        122_235,
        146_115,
        146_115,
        59_700,
        null,
      ]);
      expect(expected.customer).toEqual({ contract_value_minor: 59_700, contract_currency: 'USD' });
    });

    it('sends a fixed number of statements for a batch, whatever its size', async () => {
      const counted = async (n: number) => {
        const customerId = await aCustomer();
        const events = Array.from({ length: n }, () =>
          subscriptionEvent('subscription.renewed', aSubscription(customerId, { version: 2 })),
        );
        const sent = await statementsSent(stack.database, async () => {
          expect(await applyBatch(consumerOptions(), events, async () => {})).toBe(n);
        });
        return sent.length;
      };
      // The inbox; the customers locked; their lines read; the lines written (an upsert); the
      // values written; the announcements (held, sent at the end). One at a time it was six an event.
      expect(await counted(2)).toBe(6);
      expect(await counted(20)).toBe(6);
    });
  });
});
