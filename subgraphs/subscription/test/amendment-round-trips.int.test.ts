import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, graphql, startTestSubgraphs, unique, type TestSubgraphs } from '@c2c/platform/testing';
import { silentLogger } from '@c2c/platform/core';
import { applyBatch, type CloudEvent } from '@c2c/platform/events';
import { buildSubscriptionSubgraph } from '../src/index.ts';
import { crmAckConsumer } from '../src/consumers/crm-events.ts';
import { erpAckConsumer } from '../src/consumers/finance-events.ts';
import { CrmAcknowledgementService } from '../src/domain/crm-acknowledgement.service.ts';
import { ErpAcknowledgementService } from '../src/domain/erp-acknowledgement.service.ts';
import { BuiltinBilling } from '../src/ports/builtin/builtin-billing.ts';
import { AMEND, aPlan, CREATE_PLAN, CREATE_SUBSCRIPTION } from './support.ts';

type Data = any;

const CANCEL = /* GraphQL */ `
  mutation ($input: CancelSubscriptionInput!) {
    cancelSubscription(input: $input) {
      amendment {
        id
        creditNote {
          id
        }
      }
      userErrors {
        code
      }
    }
  }
`;

const CONTROL = /^\s*(begin|commit|rollback|savepoint|release)\b/i;

/** Every statement `work` sends to the database (nothing else runs: the stack has no relay or consumers). */
async function statementsOf(stack: TestSubgraphs, work: () => Promise<unknown>) {
  const sent: string[] = [];
  const stop = stack.database.onQuery((sql) => sent.push(sql));
  try {
    await work();
  } finally {
    stop();
  }
  return {
    sent,
    /** Round trips: every statement, transaction control included. */
    roundTrips: sent.length,
    transactions: sent.filter((s) => /^\s*begin\b/i.test(s)).length,
    statements: sent.filter((s) => !CONTROL.test(s)).length,
  };
}

describe('subscription subgraph: round trips of one amendment', () => {
  let stack: TestSubgraphs;
  let url: string;
  let planCode: string;
  const headers = { 'x-c2c-caller': 'support-tool' };

  /** A USD 9.95/seat/month subscription in Germany on period [2026-03-01, 2026-04-01). */
  async function aSubscription(seats = 3) {
    const customerId = randomUUID();
    // No consumer runs here: the bill-to replica is written as customer.created would write it.
    await stack.database.db
      .withSchema('subscription')
      .insertInto('bill_to_account')
      .values({
        id: customerId,
        name: unique('Acme'),
        email: 'billing@acme.example',
        status: 'ACTIVE',
        business_unit: 'EMEA',
        country: 'DE',
        region: null,
        version: 1,
      })
      .execute();
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

  beforeAll(async () => {
    stack = await startTestSubgraphs([buildSubscriptionSubgraph], {
      clock: fixedClock('2026-03-10T12:00:00Z'),
      events: false,
    });
    url = stack.url('subscription');
    const plan = aPlan({ unitPrice: { amount: '9.95', currency: 'USD' }, minSeats: 1, maxSeats: 100 });
    const created = (await graphql<Data>(url, CREATE_PLAN, { input: plan }, headers)).data?.createPlan;
    expect(created.userErrors).toEqual([]);
    planCode = plan.code;
  });
  afterAll(() => stack.close());

  const amend = (input: Record<string, unknown>) =>
    graphql<Data>(
      url,
      AMEND,
      { input: { effectiveDate: '2026-03-10', idempotencyKey: unique('amend'), ...input } },
      headers,
    ).then((result) => result.data?.amendSubscription);

  /** One amendment of a fresh 3-seat subscription, counted; the payload must be a success. */
  async function countedAmendment(input: Record<string, unknown>) {
    const subscriptionId = await aSubscription(3);
    let payload: Data;
    const counted = await statementsOf(stack, async () => {
      payload = await amend({ subscriptionId, ...input });
    });
    expect(payload.userErrors).toEqual([]);
    return { ...counted, payload };
  }

  beforeAll(async () => {
    // A first amendment of each shape, so that what is counted is a running service's (its plans
    // prepared, its caches warm), not a first call's.
    for (const input of [{ seats: 4 }, { seats: 2 }, { seats: 4, effectiveDate: '2026-04-01' }])
      expect((await amend({ subscriptionId: await aSubscription(3), ...input })).userErrors).toEqual([]);
  });

  // Before issue 19's step 4: 15 statements and BEGIN/COMMIT, 17 round trips, in one transaction.
  it('an immediate seat increase: one transaction, 6 statements, 8 round trips', async () => {
    const { statements, transactions, roundTrips, payload } = await countedAmendment({ seats: 5 });
    expect(payload.amendment.invoice).not.toBeNull();
    // The key's lock and lookup; the subscription locked with its bill-to and plan; the amendments
    // of the period, the tax rates and the amendment's seq; the subscription's update; the invoice
    // (its number drawn in the insert); the lines, the amendment and its steps, the outbox, the
    // audit row and the idempotency record together.
    expect(transactions).toBe(1);
    expect(statements).toBeLessThanOrEqual(6);
    expect(roundTrips).toBeLessThanOrEqual(8);
  });

  it("an immediate seat decrease (a credit note, which reads the period's seat lines): 7 statements", async () => {
    const { statements, transactions, payload } = await countedAmendment({ seats: 2 });
    expect(payload.amendment.creditNote).not.toBeNull();
    expect(transactions).toBe(1);
    expect(statements).toBeLessThanOrEqual(7);
  });

  it('a change scheduled for the renewal (no document): 5 statements', async () => {
    const { statements, transactions, payload } = await countedAmendment({
      seats: 4,
      effectiveDate: '2026-04-01',
    });
    expect(payload.amendment.invoice).toBeNull();
    expect(transactions).toBe(1);
    expect(statements).toBeLessThanOrEqual(5);
  });

  it('an immediate cancellation (a credit note for the rest of the period): 7 statements', async () => {
    const subscriptionId = await aSubscription(3);
    let payload: Data;
    const { statements, transactions } = await statementsOf(stack, async () => {
      payload = (
        await graphql<Data>(
          url,
          CANCEL,
          {
            input: {
              subscriptionId,
              mode: 'IMMEDIATELY',
              effectiveDate: '2026-03-10',
              idempotencyKey: unique('cancel'),
            },
          },
          headers,
        )
      ).data?.cancelSubscription;
    });
    expect(payload.userErrors).toEqual([]);
    expect(payload.amendment.creditNote).not.toBeNull();
    expect(transactions).toBe(1);
    expect(statements).toBeLessThanOrEqual(7);
  });

  it('a replay: the lookup, then the audit row of the answer in a transaction of its own', async () => {
    const subscriptionId = await aSubscription(3);
    const input = { subscriptionId, seats: 5, idempotencyKey: unique('replayed') };
    const first = await amend(input);
    let again: Data;
    const { statements, transactions } = await statementsOf(stack, async () => {
      again = await amend(input);
    });
    expect(again).toEqual(first);
    expect(transactions).toBeLessThanOrEqual(2);
    expect(statements).toBeLessThanOrEqual(2);
  });

  /** An acknowledgement as the ERP or the CRM would send it. */
  const ack = (type: string, subject: string, data: Record<string, unknown>): CloudEvent => ({
    specversion: '1.0',
    id: randomUUID(),
    source: type.startsWith('invoice') ? 'finance' : 'customer',
    type,
    subject,
    time: '2026-03-10T12:00:05.000Z',
    datacontenttype: 'application/json',
    correlationid: unique('corr'),
    data,
  });

  // Before: 5 statements an acknowledgement (the document, the amendment locked, its steps, the
  // step, the status), each event after the other.
  it("a batch of acknowledgements: the documents one statement each, then 3 for all the amendments' steps", async () => {
    const amended: { id: string; invoiceId: string; subscriptionId: string }[] = [];
    for (let i = 0; i < 5; i += 1) {
      const subscriptionId = await aSubscription(3);
      const payload = await amend({ subscriptionId, seats: 5 });
      expect(payload.userErrors).toEqual([]);
      amended.push({ id: payload.amendment.id, invoiceId: payload.amendment.invoice.id, subscriptionId });
    }
    const options = (consumer: string, handlers: ReturnType<typeof erpAckConsumer>) => ({
      db: stack.database.db,
      schema: 'subscription',
      consumer,
      handlers,
      log: silentLogger(),
    });
    const posted = amended.map(({ invoiceId }) =>
      ack('invoice.posted', invoiceId, {
        invoiceId,
        journalEntryId: unique('je'),
        postedAt: '2026-03-10T12:00:01.000Z',
      }),
    );
    const unknownInvoice = randomUUID();
    posted.push(
      ack('invoice.posted', unknownInvoice, {
        invoiceId: unknownInvoice,
        journalEntryId: 'je-x',
        postedAt: '2026-03-10T12:00:01.000Z',
      }),
    );
    const erp = await statementsOf(stack, () =>
      applyBatch(
        options('subscription.erp-ack', erpAckConsumer(new ErpAcknowledgementService(new BuiltinBilling()))),
        posted,
        async () => {},
      ),
    );
    // The inbox, each document's posting (6), the amendments locked, their steps, the writes.
    expect(erp.transactions).toBe(1);
    expect(erp.statements).toBe(1 + 6 + 3);

    // The CRM's: the first amendment synced twice in the batch (a second sync of the same change),
    // which settles its step once.
    const synced = [...amended, amended[0]!].map(({ id, subscriptionId }) =>
      ack('contract.synced', subscriptionId, { subscriptionId, amendmentId: id }),
    );
    const crm = await statementsOf(stack, () =>
      applyBatch(
        options('subscription.crm-ack', crmAckConsumer(new CrmAcknowledgementService())),
        synced,
        async () => {},
      ),
    );
    expect(crm.transactions).toBe(1);
    expect(crm.statements).toBe(1 + 3);

    const db = stack.database.db.withSchema('subscription');
    const ids = amended.map((a) => a.id);
    const statuses = await db
      .selectFrom('amendment')
      .select(['id', 'status'])
      .where('id', 'in', ids)
      .execute();
    expect(statuses.map((row) => row.status)).toEqual(ids.map(() => 'COMPLETED'));
    const steps = await db
      .selectFrom('amendment_step')
      .select(['system', 'status', 'attempts', 'completed_at'])
      .where('amendment_id', 'in', ids)
      .where('system', '<>', 'BILLING')
      .execute();
    expect(steps).toHaveLength(10);
    for (const step of steps) {
      expect(step.status).toBe('DONE');
      expect(step.attempts).toBe(1);
    }
    expect(steps.filter((s) => s.system === 'ERP').map((s) => s.completed_at?.toISOString())).toEqual(
      ids.map(() => '2026-03-10T12:00:01.000Z'),
    );
    const invoices = await db
      .selectFrom('invoice')
      .select('posting_status')
      .where(
        'id',
        'in',
        amended.map((a) => a.invoiceId),
      )
      .execute();
    expect(invoices.map((row) => row.posting_status)).toEqual(ids.map(() => 'POSTED'));
  });
});
