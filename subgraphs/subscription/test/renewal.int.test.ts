import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixedClock,
  graphql,
  startTestSubgraphs,
  unique,
  waitFor,
  type TestSubgraphs,
} from '@c2c/platform/testing';
import { buildSubscriptionSubgraph } from '../src/index.ts';
import {
  addBillTo,
  aPlan,
  CREATE_PLAN,
  CREATE_SUBSCRIPTION,
  envelope,
  outboxFor,
  RENEW,
  writeCounts,
} from './support.ts';

const SUBSCRIPTION = /* GraphQL */ `
  query ($id: ID!, $first: Int, $after: String) {
    billingSubscription(id: $id) {
      version
      currentPeriod {
        start
        end
      }
      invoices(first: $first, after: $after) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          id
          number
          issuedOn
          dueOn
          total {
            amount
            currency
          }
          lines {
            periodStart
            periodEnd
          }
        }
      }
    }
  }
`;

const AMENDMENT_FIELDS = /* GraphQL */ `
  id
  kind
  status
  correlationId
  effectiveDate
  scheduled
  seatsBefore
  seatsAfter
  proration {
    amount
  }
  invoice {
    id
    issuedOn
  }
  creditNote {
    id
  }
  steps {
    system
    status
    attempts
    completedAt
  }
`;
const AMENDMENTS = /* GraphQL */ `
  query ($id: ID!) {
    billingSubscription(id: $id) {
      amendments {
        ${AMENDMENT_FIELDS}
      }
    }
  }
`;
const AMENDMENT = /* GraphQL */ `
  query ($id: ID!) {
    amendment(id: $id) {
      ${AMENDMENT_FIELDS}
    }
  }
`;

type Data = any;

/** Its own database: a billing run renews every due subscription, so other tests' data would count. */
describe('billing run: renewSubscriptions', () => {
  let stack: TestSubgraphs;
  let url: string;
  const headers = { 'x-c2c-caller': 'billing-run', 'x-correlation-id': 'run-2026-03-10' };
  const ids: Record<string, string> = {};
  const renew = async (asOf: string, idempotencyKey: string) =>
    (await graphql<Data>(url, RENEW, { asOf, idempotencyKey }, headers)).data?.renewSubscriptions;

  beforeAll(async () => {
    stack = await startTestSubgraphs([buildSubscriptionSubgraph], {
      clock: fixedClock('2026-03-10T12:00:00Z'),
    });
    url = stack.url('subscription');
    const plan = async (overrides: Record<string, unknown>) =>
      (await graphql<Data>(url, CREATE_PLAN, { input: aPlan(overrides) })).data?.createPlan.plan
        .code as string;
    const subscribe = async (customerId: string, planCode: string, seats: number, startDate: string) =>
      (
        await graphql<Data>(url, CREATE_SUBSCRIPTION, {
          input: { customerId, planCode, seats, startDate, idempotencyKey: unique() },
        })
      ).data?.createSubscription.subscription.id as string;
    const monthly = await plan({ unitPrice: { amount: '9.95', currency: 'USD' }, name: 'Pro' });
    const yearly = await plan({ unitPrice: { amount: '12000', currency: 'JPY' }, billingPeriod: 'YEAR' });
    ids.catchUp = await subscribe(await addBillTo(stack, { country: 'DE' }), monthly, 2, '2025-12-31');
    ids.yearly = await subscribe(await addBillTo(stack, { country: 'JP' }), yearly, 1, '2025-03-10');
    ids.notDue = await subscribe(await addBillTo(stack, { country: 'DE' }), monthly, 1, '2026-03-01');
  });
  afterAll(() => stack.close());

  it('catches every due subscription up, one period and invoice at a time', async () => {
    const result = await renew('2026-03-10', 'run-1');
    // USD: 2 × (19.90 + 3.78) for Jan 31 and Feb 28; JPY: 12000 + 1200 for the year from 2026-03-10.
    expect(result).toEqual({
      renewedCount: 3,
      invoicedTotal: [
        { amount: '13200', currency: 'JPY' },
        { amount: '47.36', currency: 'USD' },
      ],
      userErrors: [],
    });

    const catchUp = (await graphql<Data>(url, SUBSCRIPTION, { id: ids.catchUp, first: 10 })).data
      ?.billingSubscription;
    expect(catchUp.version).toBe(3);
    expect(catchUp.currentPeriod).toEqual({ start: '2026-02-28', end: '2026-03-31' });
    expect(catchUp.invoices.totalCount).toBe(3);
    expect(
      catchUp.invoices.nodes.map((n: Data) => [
        n.issuedOn,
        n.dueOn,
        n.total.amount,
        n.lines[0].periodStart,
        n.lines[0].periodEnd,
      ]),
    ).toEqual([
      ['2026-02-28', '2026-03-30', '23.68', '2026-02-28', '2026-03-31'],
      ['2026-01-31', '2026-03-02', '23.68', '2026-01-31', '2026-02-28'],
      ['2025-12-31', '2026-01-30', '23.68', '2025-12-31', '2026-01-31'],
    ]);

    const yearly = (await graphql<Data>(url, SUBSCRIPTION, { id: ids.yearly, first: 1 })).data
      ?.billingSubscription;
    expect(yearly).toMatchObject({ version: 2, currentPeriod: { start: '2026-03-10', end: '2027-03-10' } });
    const notDue = (await graphql<Data>(url, SUBSCRIPTION, { id: ids.notDue, first: 10 })).data
      ?.billingSubscription;
    expect(notDue).toMatchObject({ version: 1, invoices: { totalCount: 1 } });

    const events = await outboxFor(stack, [ids.catchUp!, ...catchUp.invoices.nodes.map((n: Data) => n.id)]);
    expect(events.map((e) => [e.type, e.aggregate_version])).toEqual([
      ['subscription.created', 1],
      ['invoice.issued', 1],
      ['subscription.renewed', 2],
      ['invoice.issued', 2],
      ['subscription.renewed', 3],
      ['invoice.issued', 3],
    ]);
    expect(events[2]?.data).toMatchObject({
      version: 2,
      currentPeriod: { start: '2026-01-31', end: '2026-02-28' },
      status: 'ACTIVE',
      seats: 2,
    });
    expect(events[4]?.data).toMatchObject({
      version: 3,
      currentPeriod: { start: '2026-02-28', end: '2026-03-31' },
    });
    expect(events[5]?.data).toMatchObject({
      subscriptionId: ids.catchUp,
      issuedOn: '2026-02-28',
      dueOn: '2026-03-30',
      subtotalMinor: 1990,
      taxMinor: 378,
      totalMinor: 2368,
      lines: [
        expect.objectContaining({
          quantity: 2,
          periodStart: '2026-02-28',
          periodEnd: '2026-03-31',
          taxRatePpm: 190000,
        }),
      ],
    });
    expect(events.slice(2).every((e) => e.correlation_id === 'run-2026-03-10')).toBe(true);
  });

  it('records each renewed period, caught up or not, as a RENEWAL amendment linked to its invoice', async () => {
    const amendments = async (id: string) =>
      (await graphql<Data>(url, AMENDMENTS, { id })).data?.billingSubscription.amendments;
    const steps = [
      { system: 'BILLING', status: 'DONE', attempts: 1, completedAt: expect.any(String) },
      { system: 'ERP', status: 'PENDING', attempts: 0, completedAt: null },
      { system: 'CRM', status: 'PENDING', attempts: 0, completedAt: null },
    ];
    const renewal = (effectiveDate: string, seats: number) => ({
      kind: 'RENEWAL',
      status: 'INVOICED',
      correlationId: 'run-2026-03-10',
      effectiveDate,
      scheduled: false,
      seatsBefore: seats,
      seatsAfter: seats,
      proration: null,
      invoice: { id: expect.any(String), issuedOn: effectiveDate },
      creditNote: null,
      steps,
    });
    // Catch-up: one per period, newest first, like the invoices.
    const catchUp = await amendments(ids.catchUp!);
    expect(catchUp).toEqual([
      { id: expect.any(String), ...renewal('2026-02-28', 2) },
      { id: expect.any(String), ...renewal('2026-01-31', 2) },
    ]);
    expect(await amendments(ids.yearly!)).toEqual([{ id: expect.any(String), ...renewal('2026-03-10', 1) }]);
    expect(await amendments(ids.notDue!)).toEqual([]);

    // Both events of a period name its amendment, so the ERP's and the CRM's acknowledgements find it.
    const invoiceIds = catchUp.map((a: Data) => a.invoice.id as string);
    const events = (await outboxFor(stack, [ids.catchUp!, ...invoiceIds])).filter(
      (e) => e.type !== 'subscription.created',
    );
    expect(events.map((e) => [e.type, e.data.amendmentId])).toEqual([
      ['subscription.renewed', catchUp[1].id],
      ['invoice.issued', catchUp[1].id],
      ['subscription.renewed', catchUp[0].id],
      ['invoice.issued', catchUp[0].id],
    ]);
    expect(events.filter((e) => e.type === 'invoice.issued').map((e) => e.subject)).toEqual(
      [...invoiceIds].reverse(),
    );
  });

  it('drives a renewal to COMPLETED on invoice.posted and contract.synced, in either order', async () => {
    const amendment = async (id: string) => (await graphql<Data>(url, AMENDMENT, { id })).data?.amendment;
    const statusOf = (id: string, status: string) =>
      waitFor(
        async () => {
          const found = await amendment(id);
          return found?.status === status ? found : undefined;
        },
        10_000,
        `amendment ${id} to be ${status}`,
      );
    const posted = (invoiceId: string) =>
      stack.transport.publish([
        envelope('finance', 'invoice.posted', invoiceId, {
          invoiceId,
          journalEntryId: randomUUID(),
          postedAt: '2026-03-10T12:00:01.000Z',
        }),
      ]);
    const synced = (subscriptionId: string, amendmentId: string, subscriptionVersion: number) =>
      stack.transport.publish([
        envelope('customer', 'contract.synced', subscriptionId, {
          subscriptionId,
          customerId: randomUUID(),
          subscriptionVersion,
          amendmentId,
          contractValueMinor: 23880,
          currency: 'USD',
        }),
      ]);
    const listed = (await graphql<Data>(url, AMENDMENTS, { id: ids.catchUp })).data;
    const [latest, earlier] = listed.billingSubscription.amendments;

    // ERP first: INVOICED → POSTED → COMPLETED.
    await posted(earlier.invoice.id);
    expect((await statusOf(earlier.id, 'POSTED')).steps[1]).toMatchObject({ status: 'DONE', attempts: 1 });
    await synced(ids.catchUp!, earlier.id, 2);
    const done = await statusOf(earlier.id, 'COMPLETED');
    expect(done.steps.map((s: Data) => [s.system, s.status, s.attempts])).toEqual([
      ['BILLING', 'DONE', 1],
      ['ERP', 'DONE', 1],
      ['CRM', 'DONE', 1],
    ]);

    // CRM first: stays INVOICED until the ERP posts the period invoice.
    await synced(ids.catchUp!, latest.id, 3);
    await waitFor(async () => (await amendment(latest.id)).steps[2].status === 'DONE');
    expect((await amendment(latest.id)).status).toBe('INVOICED');
    await posted(latest.invoice.id);
    await statusOf(latest.id, 'COMPLETED');
  });

  it('pages the renewed invoices newest first with cursors', async () => {
    const page1 = (await graphql<Data>(url, SUBSCRIPTION, { id: ids.catchUp, first: 2 })).data
      ?.billingSubscription.invoices;
    expect(page1.totalCount).toBe(3);
    expect(page1.nodes.map((n: Data) => n.issuedOn)).toEqual(['2026-02-28', '2026-01-31']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (
      await graphql<Data>(url, SUBSCRIPTION, { id: ids.catchUp, first: 2, after: page1.pageInfo.endCursor })
    ).data?.billingSubscription.invoices;
    expect(page2).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: false } });
    expect(page2.nodes.map((n: Data) => n.issuedOn)).toEqual(['2025-12-31']);
  });

  it('replays a repeated run, renews nothing twice, and refuses the key for another date', async () => {
    const before = await writeCounts(stack);
    expect(await renew('2026-03-10', 'run-1')).toMatchObject({ renewedCount: 3 });
    expect(await writeCounts(stack)).toEqual(before);
    expect(await renew('2026-03-10', 'run-2')).toEqual({
      renewedCount: 0,
      invoicedTotal: [],
      userErrors: [],
    });
    const reused = await renew('2026-03-11', 'run-1');
    expect(reused).toEqual({
      renewedCount: 0,
      invoicedTotal: [],
      userErrors: [expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' })],
    });
    const after = await writeCounts(stack);
    expect({ ...after, idempotency_key: 0 }).toEqual({ ...before, idempotency_key: 0 });
  });

  it('refuses a run dated more than a year ahead and an impossible date', async () => {
    const before = await writeCounts(stack);
    expect(await renew('2030-01-01', unique())).toEqual({
      renewedCount: 0,
      invoicedTotal: [],
      userErrors: [expect.objectContaining({ code: 'INVALID_DATE', field: 'asOf' })],
    });
    const impossible = await graphql(url, RENEW, { asOf: '2026-02-30', idempotencyKey: unique() });
    expect(impossible.data).toBeUndefined();
    expect(impossible.errors?.length).toBeGreaterThan(0);
    expect(await writeCounts(stack)).toEqual(before);
  });
});
