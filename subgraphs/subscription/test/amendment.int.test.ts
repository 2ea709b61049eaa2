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
  AMEND,
  aPlan,
  billTo,
  CREATE_PLAN,
  CREATE_SUBSCRIPTION,
  envelope,
  outboxFor,
  RENEW,
  writeCounts,
} from './support.ts';

const CANCEL = /* GraphQL */ `
  mutation ($input: CancelSubscriptionInput!) {
    cancelSubscription(input: $input) {
      amendment {
        id
        kind
        status
        effectiveDate
        scheduled
        seatsBefore
        seatsAfter
        proration {
          amount
          currency
        }
        creditNote {
          id
          number
          kind
          total {
            amount
            currency
          }
        }
      }
      subscription {
        id
        status
        version
        cancelAt
        cancelledOn
      }
      userErrors {
        code
        field
        message
      }
    }
  }
`;
const AMENDMENT = /* GraphQL */ `
  query ($id: ID!) {
    amendment(id: $id) {
      id
      status
      kind
      correlationId
      scheduled
      reason
      steps {
        system
        status
        attempts
        lastError
        completedAt
      }
    }
  }
`;
const SUBSCRIPTION = /* GraphQL */ `
  query ($id: ID!) {
    billingSubscription(id: $id) {
      id
      status
      seats
      version
      pendingSeats
      cancelAt
      amendments {
        id
        seatsBefore
        seatsAfter
      }
    }
  }
`;

type Data = any;

describe('subscription subgraph: amendments and cancellations', () => {
  let stack: TestSubgraphs;
  let url: string;
  let planCode: string;
  const headers = { 'x-c2c-caller': 'support-tool' };

  const amend = async (input: Record<string, unknown>, extraHeaders: Record<string, string> = {}) =>
    (
      await graphql<Data>(
        url,
        AMEND,
        { input: { idempotencyKey: unique('amend'), effectiveDate: '2026-03-10', ...input } },
        { ...headers, ...extraHeaders },
      )
    ).data?.amendSubscription;
  const cancel = async (input: Record<string, unknown>) =>
    (await graphql<Data>(url, CANCEL, { input: { idempotencyKey: unique('cancel'), ...input } }, headers))
      .data?.cancelSubscription;
  const amendment = async (id: string) => (await graphql<Data>(url, AMENDMENT, { id })).data?.amendment;
  const subscription = async (id: string) =>
    (await graphql<Data>(url, SUBSCRIPTION, { id })).data?.billingSubscription;
  const publish = (type: string, subject: string, data: Record<string, unknown>) =>
    stack.transport.publish([
      envelope(type.startsWith('contract') ? 'customer' : 'finance', type, subject, data),
    ]);
  const statusOf = (id: string, status: string) =>
    waitFor(
      async () => {
        const found = await amendment(id);
        return found?.status === status ? found : undefined;
      },
      10_000,
      `amendment ${id} to be ${status}`,
    );

  /** A USD 9.95/seat/month subscription in Germany (19% VAT) on period [2026-03-01, 2026-04-01). */
  async function aSubscription(seats = 3, customer: Record<string, unknown> = {}) {
    const customerId = await addBillTo(stack, { country: 'DE', ...customer });
    const result = await graphql<Data>(
      url,
      CREATE_SUBSCRIPTION,
      {
        input: { customerId, planCode, seats, startDate: '2026-03-01', idempotencyKey: unique('sub') },
      },
      headers,
    );
    const created = result.data?.createSubscription;
    expect(created.userErrors).toEqual([]);
    return { id: created.subscription.id as string, customerId };
  }

  beforeAll(async () => {
    stack = await startTestSubgraphs([buildSubscriptionSubgraph], {
      clock: fixedClock('2026-03-10T12:00:00Z'),
    });
    url = stack.url('subscription');
    const plan = aPlan({ unitPrice: { amount: '9.95', currency: 'USD' }, minSeats: 1, maxSeats: 100 });
    const created = (await graphql<Data>(url, CREATE_PLAN, { input: plan }, headers)).data?.createPlan;
    expect(created.userErrors).toEqual([]);
    planCode = plan.code;
  });
  afterAll(() => stack.close());

  describe('amendSubscription', () => {
    it('prorates an increase to the cent, invoices it with tax and announces both events', async () => {
      const sub = await aSubscription(3);
      const correlationId = `corr-${randomUUID()}`;
      const payload = await amend(
        { subscriptionId: sub.id, seats: 5, expectedVersion: 1, reason: 'two new hires' },
        { 'x-correlation-id': correlationId },
      );
      expect(payload.userErrors).toEqual([]);
      // 2 × 9.95 × 22/31 = 14.122… → 14.12; 19% VAT: 2.6828 → 2.68; total 16.80.
      expect(payload).toMatchObject({
        amendment: {
          status: 'INVOICED',
          correlationId,
          effectiveDate: '2026-03-10',
          seatsBefore: 3,
          seatsAfter: 5,
          proration: { amount: '14.12', currency: 'USD' },
          invoice: {
            number: expect.stringMatching(/^INV-\d{6}$/),
            total: { amount: '16.80', currency: 'USD' },
          },
          creditNote: null,
        },
        subscription: { id: sub.id, seats: 5, version: 2 },
      });
      const { id: amendmentId } = payload.amendment;
      const invoiceId = payload.amendment.invoice.id;
      expect(await amendment(amendmentId)).toMatchObject({
        kind: 'SEATS',
        scheduled: false,
        reason: 'two new hires',
        steps: [
          {
            system: 'BILLING',
            status: 'DONE',
            attempts: 1,
            lastError: null,
            completedAt: expect.any(String),
          },
          { system: 'ERP', status: 'PENDING', attempts: 0, lastError: null, completedAt: null },
          { system: 'CRM', status: 'PENDING', attempts: 0, lastError: null, completedAt: null },
        ],
      });

      const events = await outboxFor(stack, [sub.id, invoiceId]);
      expect(events.map((e) => [e.type, e.aggregate_version, e.correlation_id])).toEqual([
        ['subscription.created', 1, expect.any(String)],
        ['subscription.amended', 2, correlationId],
        ['invoice.issued', 2, correlationId],
      ]);
      expect(events[1]?.data).toMatchObject({ id: sub.id, seats: 5, version: 2, amendmentId });
      expect(events[2]?.data).toMatchObject({
        id: invoiceId,
        kind: 'INVOICE',
        subtotalMinor: 1412,
        taxMinor: 268,
        totalMinor: 1680,
        amendmentId,
        lines: [
          {
            quantity: 2,
            unitPriceMinor: 995,
            amountMinor: 1412,
            taxMinor: 268,
            taxRatePpm: 190000,
            periodStart: '2026-03-10',
            periodEnd: '2026-04-01',
          },
        ],
      });
    });

    it('credits a decrease with a credit note of negative amounts and creditnote.issued', async () => {
      const sub = await aSubscription(3);
      const payload = await amend({ subscriptionId: sub.id, seats: 1 });
      expect(payload.userErrors).toEqual([]);
      expect(payload.amendment).toMatchObject({
        status: 'INVOICED',
        seatsBefore: 3,
        seatsAfter: 1,
        proration: { amount: '-14.12', currency: 'USD' }, // −2 × 9.95 × 22/31 = −14.122…
        invoice: null,
        creditNote: { number: expect.stringMatching(/^CN-\d{6}$/) },
      });
      const noteId = payload.amendment.creditNote.id;
      const [event] = (await outboxFor(stack, [noteId])).filter((e) => e.type === 'creditnote.issued');
      expect(event?.data).toMatchObject({
        kind: 'CREDIT_NOTE',
        subtotalMinor: -1412,
        taxMinor: -268, // −2.6828 → −2.68, away from zero only on a tie
        totalMinor: -1680,
        amendmentId: payload.amendment.id,
      });
      expect(payload.amendment.creditNote.total).toEqual({ amount: '-16.80', currency: 'USD' });
    });

    it('schedules a change on the period end for the renewal, without proration, and the run applies it', async () => {
      const sub = await aSubscription(3);
      const payload = await amend({ subscriptionId: sub.id, seats: 7, effectiveDate: '2026-04-01' });
      expect(payload.userErrors).toEqual([]);
      expect(payload.amendment).toMatchObject({
        status: 'ACCEPTED',
        proration: null,
        invoice: null,
        creditNote: null,
        seatsBefore: 3,
        seatsAfter: 7,
      });
      expect(await subscription(sub.id)).toMatchObject({ seats: 3, pendingSeats: 7, version: 2 });
      expect((await amendment(payload.amendment.id)).steps[1]).toMatchObject({
        system: 'ERP',
        status: 'SKIPPED',
      });
      const events = await outboxFor(stack, [sub.id]);
      expect(events.map((e) => e.type)).toEqual(['subscription.created', 'subscription.amended']);

      const run = await graphql<Data>(
        url,
        RENEW,
        { asOf: '2026-04-01', idempotencyKey: unique('run') },
        headers,
      );
      expect(run.data?.renewSubscriptions.userErrors).toEqual([]);
      const after = await subscription(sub.id);
      expect(after).toMatchObject({ seats: 7, pendingSeats: null, version: 3 });
      // The renewal that applied the change is an amendment of its own, billing the new seats.
      expect(after.amendments).toEqual([
        { id: expect.any(String), seatsBefore: 3, seatsAfter: 7 },
        { id: payload.amendment.id, seatsBefore: 3, seatsAfter: 7 },
      ]);
      const renewal = await amendment(after.amendments[0].id);
      expect(renewal).toMatchObject({
        kind: 'RENEWAL',
        status: 'INVOICED',
        scheduled: false,
        reason: null,
        steps: [
          { system: 'BILLING', status: 'DONE' },
          { system: 'ERP', status: 'PENDING' },
          { system: 'CRM', status: 'PENDING' },
        ],
      });
      const renewed = (await outboxFor(stack, [sub.id])).at(-1);
      expect(renewed).toMatchObject({
        type: 'subscription.renewed',
        data: { seats: 7, version: 3, amendmentId: renewal.id },
      });
    });

    it('replays the stored response for a repeated key and writes nothing more', async () => {
      const sub = await aSubscription(3);
      const input = { subscriptionId: sub.id, seats: 4, idempotencyKey: unique('amend') };
      const first = await amend(input);
      expect(first.userErrors).toEqual([]);
      const before = await writeCounts(stack);
      const again = await amend(input, { 'x-correlation-id': 'another-request' });
      expect(again).toEqual(first);
      expect(again.amendment.correlationId).toBe(first.amendment.correlationId);
      expect(await writeCounts(stack)).toEqual(before);
      const reused = await amend({ ...input, seats: 6 });
      expect(reused).toEqual({
        amendment: null,
        subscription: null,
        userErrors: [expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'idempotencyKey' })],
      });
      expect(await writeCounts(stack)).toEqual(before);
    });

    it('replays the response as first returned, not the subscription as later changes left it', async () => {
      const sub = await aSubscription(3);
      const input = { subscriptionId: sub.id, seats: 4, idempotencyKey: unique('amend') };
      const first = await amend(input);
      expect(first.subscription).toMatchObject({ seats: 4, version: 2 });
      expect((await amend({ subscriptionId: sub.id, seats: 6 })).userErrors).toEqual([]);
      const again = await amend(input);
      expect(again).toEqual(first);
      expect(again.subscription).toMatchObject({ seats: 4, version: 2 });
    });

    describe('bad input: a clear code and nothing written', () => {
      it.each([
        ['a stale expectedVersion', { expectedVersion: 7 }, 'VERSION_CONFLICT', 'expectedVersion'],
        [
          'a date before the period',
          { effectiveDate: '2026-02-28' },
          'EFFECTIVE_DATE_OUT_OF_PERIOD',
          'effectiveDate',
        ],
        [
          'a date after the period end',
          { effectiveDate: '2026-04-02' },
          'EFFECTIVE_DATE_OUT_OF_PERIOD',
          'effectiveDate',
        ],
        ['the same seat count', { seats: 3 }, 'SEATS_UNCHANGED', 'seats'],
        ['more seats than the plan allows', { seats: 101 }, 'INVALID_SEATS', 'seats'],
        ['zero seats', { seats: 0 }, 'INVALID_SEATS', 'seats'],
        [
          'an unknown subscription',
          { subscriptionId: randomUUID() },
          'SUBSCRIPTION_NOT_FOUND',
          'subscriptionId',
        ],
        [
          'a malformed subscription id',
          { subscriptionId: 'nope' },
          'SUBSCRIPTION_NOT_FOUND',
          'subscriptionId',
        ],
        ['an empty idempotency key', { idempotencyKey: '' }, 'INVALID_IDEMPOTENCY_KEY', 'idempotencyKey'],
        ['a reason with a NUL', { reason: 'x\u0000' }, 'INVALID_TEXT', 'reason'],
      ])('%s → %s', async (_label, overrides, code, field) => {
        const sub = await aSubscription(3);
        const before = await writeCounts(stack);
        const payload = await amend({ subscriptionId: sub.id, seats: 5, ...overrides });
        expect(payload).toEqual({
          amendment: null,
          subscription: null,
          userErrors: [expect.objectContaining({ code, field })],
        });
        expect(await writeCounts(stack)).toEqual(before);
        expect(await subscription(sub.id)).toMatchObject({ seats: 3, version: 1, pendingSeats: null });
      });

      it('SUBSCRIPTION_NOT_ACTIVE for a cancelled subscription', async () => {
        const sub = await aSubscription(3);
        expect((await cancel({ subscriptionId: sub.id, mode: 'IMMEDIATELY' })).userErrors).toEqual([]);
        const before = await writeCounts(stack);
        expect((await amend({ subscriptionId: sub.id, seats: 5 })).userErrors).toEqual([
          expect.objectContaining({ code: 'SUBSCRIPTION_NOT_ACTIVE', field: 'subscriptionId' }),
        ]);
        expect(await writeCounts(stack)).toEqual(before);
      });

      it('CUSTOMER_NOT_ACTIVE when the bill-to replica says the customer is suspended', async () => {
        const sub = await aSubscription(3);
        const current = await billTo(stack, sub.customerId);
        await stack.transport.publish([
          envelope('customer', 'customer.updated', sub.customerId, {
            ...current,
            businessUnit: current?.business_unit,
            status: 'SUSPENDED',
            version: 2,
          }),
        ]);
        await waitFor(async () => (await billTo(stack, sub.customerId))?.status === 'SUSPENDED');
        const before = await writeCounts(stack);
        expect((await amend({ subscriptionId: sub.id, seats: 5 })).userErrors).toEqual([
          expect.objectContaining({ code: 'CUSTOMER_NOT_ACTIVE' }),
        ]);
        expect(await writeCounts(stack)).toEqual(before);
        expect(await subscription(sub.id)).toMatchObject({ seats: 3, version: 1 });
      });
    });

    it('lets exactly one of 20 concurrent amendments with the same expectedVersion win', async () => {
      const sub = await aSubscription(3);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          amend({ subscriptionId: sub.id, seats: 4 + i, expectedVersion: 1 }),
        ),
      );
      const winners = results.filter((r) => r.userErrors.length === 0);
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => r.userErrors[0]?.code === 'VERSION_CONFLICT').length).toBe(19);
      const after = await subscription(sub.id);
      expect(after).toMatchObject({ version: 2, seats: winners[0].amendment.seatsAfter });
      expect(after.amendments).toHaveLength(1);
    });

    it('loses no update when 20 clients amend one subscription concurrently, retrying on VERSION_CONFLICT', async () => {
      const sub = await aSubscription(3);
      let conflicts = 0;
      const client = async () => {
        for (;;) {
          const current = await subscription(sub.id);
          const payload = await amend({
            subscriptionId: sub.id,
            seats: current.seats + 1,
            expectedVersion: current.version,
          });
          if (payload.userErrors.length === 0) return payload.amendment;
          expect(payload.userErrors[0].code).toBe('VERSION_CONFLICT');
          conflicts += 1;
        }
      };
      const amendments = await Promise.all(Array.from({ length: 20 }, client));
      const after = await subscription(sub.id);
      expect(after).toMatchObject({ seats: 23, version: 21 });
      expect(after.amendments).toHaveLength(20);
      // One amendment per version, each starting where the previous one ended.
      const chain = [...after.amendments].reverse();
      chain.forEach((a: any, i: number) => expect([a.seatsBefore, a.seatsAfter]).toEqual([3 + i, 4 + i]));
      expect(new Set(amendments.map((a) => a.id)).size).toBe(20);
      // The clients really raced: all read the first version before any write, so most had to retry.
      expect(conflicts).toBeGreaterThan(0);
    });

    it('creates exactly one amendment when the same idempotency key is sent 20 times at once', async () => {
      const sub = await aSubscription(3);
      const input = { subscriptionId: sub.id, seats: 9, idempotencyKey: unique('same') };
      const results = await Promise.all(Array.from({ length: 20 }, () => amend(input)));
      const succeeded = results.filter((r) => r.userErrors.length === 0);
      expect(succeeded.length).toBeGreaterThanOrEqual(1);
      expect(new Set(succeeded.map((r) => r.amendment.id)).size).toBe(1);
      for (const r of results.filter((r) => r.userErrors.length > 0))
        expect(r.userErrors[0].code).toBe('IDEMPOTENCY_KEY_IN_USE');
      const after = await subscription(sub.id);
      expect(after).toMatchObject({ seats: 9, version: 2 });
      expect(after.amendments).toHaveLength(1);
    });
  });

  describe('workflow status from the ERP and CRM acknowledgements', () => {
    async function anAmendment() {
      const sub = await aSubscription(3);
      const payload = await amend({ subscriptionId: sub.id, seats: 4 });
      expect(payload.userErrors).toEqual([]);
      return { sub, id: payload.amendment.id as string, invoiceId: payload.amendment.invoice.id as string };
    }
    const posted = (invoiceId: string) =>
      publish('invoice.posted', invoiceId, {
        invoiceId,
        journalEntryId: randomUUID(),
        postedAt: '2026-03-10T12:00:01.000Z',
      });
    const synced = (subscriptionId: string, amendmentId: string) =>
      publish('contract.synced', subscriptionId, {
        subscriptionId,
        customerId: randomUUID(),
        subscriptionVersion: 2,
        amendmentId,
        contractValueMinor: 47760,
        currency: 'USD',
      });

    it('goes INVOICED → POSTED → COMPLETED', async () => {
      const a = await anAmendment();
      await posted(a.invoiceId);
      const afterErp = await statusOf(a.id, 'POSTED');
      expect(afterErp.steps[1]).toEqual({
        system: 'ERP',
        status: 'DONE',
        attempts: 1,
        lastError: null,
        completedAt: '2026-03-10T12:00:01.000Z',
      });
      await synced(a.sub.id, a.id);
      const done = await statusOf(a.id, 'COMPLETED');
      expect(done.steps.map((s: any) => [s.system, s.status, s.attempts])).toEqual([
        ['BILLING', 'DONE', 1],
        ['ERP', 'DONE', 1],
        ['CRM', 'DONE', 1],
      ]);
    });

    it('ends COMPLETED when the CRM acknowledges before the ERP', async () => {
      const a = await anAmendment();
      await synced(a.sub.id, a.id);
      await waitFor(async () => (await amendment(a.id)).steps[2].status === 'DONE');
      expect((await amendment(a.id)).status).toBe('INVOICED');
      await posted(a.invoiceId);
      await statusOf(a.id, 'COMPLETED');
    });

    it('shows EXCEPTION at ERP on posting.failed and resumes when the replayed posting arrives', async () => {
      const a = await anAmendment();
      await synced(a.sub.id, a.id);
      await publish('posting.failed', a.invoiceId, {
        invoiceId: a.invoiceId,
        amendmentId: a.id,
        error: 'ledger locked for closing',
        attempts: 3,
      });
      const failed = await statusOf(a.id, 'EXCEPTION');
      expect(failed.steps[1]).toEqual({
        system: 'ERP',
        status: 'FAILED',
        attempts: 3,
        lastError: 'ledger locked for closing',
        completedAt: null,
      });
      await posted(a.invoiceId);
      const done = await statusOf(a.id, 'COMPLETED');
      expect(done.steps[1]).toMatchObject({
        status: 'DONE',
        attempts: 4,
        lastError: 'ledger locked for closing',
      });
    });

    it('shows EXCEPTION at CRM on contractsync.failed and completes after a successful sync', async () => {
      const a = await anAmendment();
      await posted(a.invoiceId);
      await statusOf(a.id, 'POSTED');
      await publish('contractsync.failed', a.sub.id, {
        subscriptionId: a.sub.id,
        amendmentId: a.id,
        error: 'contract_line is locked',
        attempts: 5,
      });
      const failed = await statusOf(a.id, 'EXCEPTION');
      expect(failed.steps[2]).toMatchObject({ system: 'CRM', status: 'FAILED', attempts: 5 });
      await synced(a.sub.id, a.id);
      const done = await statusOf(a.id, 'COMPLETED');
      expect(done.steps[2]).toMatchObject({ status: 'DONE', attempts: 6 });
    });

    it('never lets a late failure undo a posting the ERP acknowledged', async () => {
      const a = await anAmendment();
      await posted(a.invoiceId);
      await statusOf(a.id, 'POSTED');
      await publish('posting.failed', a.invoiceId, { invoiceId: a.invoiceId, error: 'late', attempts: 1 });
      await synced(a.sub.id, a.id);
      const done = await statusOf(a.id, 'COMPLETED');
      expect(done.steps[1]).toMatchObject({ status: 'DONE', lastError: null });
    });
  });

  describe('cancelSubscription', () => {
    it('cancels immediately with a prorated credit note for the rest of the period', async () => {
      const sub = await aSubscription(3);
      const payload = await cancel({
        subscriptionId: sub.id,
        mode: 'IMMEDIATELY',
        effectiveDate: '2026-03-10',
        expectedVersion: 1,
        reason: 'moving to a competitor',
      });
      expect(payload.userErrors).toEqual([]);
      // −3 × 9.95 × 22/31 = −21.183… → −21.18; VAT −4.0242 → −4.02; total −25.20.
      expect(payload).toMatchObject({
        amendment: {
          kind: 'CANCELLATION',
          status: 'INVOICED',
          scheduled: false,
          seatsBefore: 3,
          seatsAfter: 0,
          proration: { amount: '-21.18', currency: 'USD' },
          creditNote: { kind: 'CREDIT_NOTE', total: { amount: '-25.20', currency: 'USD' } },
        },
        subscription: { status: 'CANCELLED', version: 2, cancelledOn: '2026-03-10', cancelAt: null },
      });
      const events = await outboxFor(stack, [sub.id, payload.amendment.creditNote.id]);
      expect(events.slice(1).map((e) => e.type)).toEqual(['subscription.cancelled', 'creditnote.issued']);
      expect(events[1]?.data).toMatchObject({ status: 'CANCELLED', amendmentId: payload.amendment.id });
    });

    it('defaults an immediate cancellation to today (the clock: 2026-03-10)', async () => {
      const sub = await aSubscription(1);
      const payload = await cancel({ subscriptionId: sub.id, mode: 'IMMEDIATELY' });
      expect(payload.amendment).toMatchObject({
        effectiveDate: '2026-03-10',
        proration: { amount: '-7.06' },
      });
    });

    it('schedules a cancellation at period end; the billing run ends the subscription instead of renewing', async () => {
      const sub = await aSubscription(2);
      const payload = await cancel({ subscriptionId: sub.id, mode: 'AT_PERIOD_END' });
      expect(payload.userErrors).toEqual([]);
      expect(payload).toMatchObject({
        amendment: { status: 'ACCEPTED', scheduled: true, effectiveDate: '2026-04-01', proration: null },
        subscription: { status: 'ACTIVE', cancelAt: '2026-04-01', version: 2 },
      });
      expect((await cancel({ subscriptionId: sub.id, mode: 'AT_PERIOD_END' })).userErrors).toEqual([
        expect.objectContaining({ code: 'SUBSCRIPTION_NOT_ACTIVE' }),
      ]);
      expect((await amend({ subscriptionId: sub.id, seats: 5 })).userErrors).toEqual([
        expect.objectContaining({ code: 'SUBSCRIPTION_NOT_ACTIVE' }),
      ]);
      const run = await graphql<Data>(
        url,
        RENEW,
        { asOf: '2026-05-15', idempotencyKey: unique('run') },
        headers,
      );
      expect(run.data?.renewSubscriptions.userErrors).toEqual([]);
      const after = await subscription(sub.id);
      expect(after).toMatchObject({ status: 'CANCELLED', cancelAt: null, version: 3 });
      const events = await outboxFor(stack, [sub.id]);
      expect(events.map((e) => e.type)).toEqual([
        'subscription.created',
        'subscription.amended',
        'subscription.cancelled',
      ]);
      // The run applying the cancellation is a CANCELLATION amendment of the run: no document, so
      // only the CRM has to acknowledge it.
      expect(after.amendments).toEqual([
        { id: expect.any(String), seatsBefore: 2, seatsAfter: 0 },
        { id: payload.amendment.id, seatsBefore: 2, seatsAfter: 0 },
      ]);
      const applied = await amendment(after.amendments[0].id);
      expect(applied).toMatchObject({
        kind: 'CANCELLATION',
        status: 'ACCEPTED',
        scheduled: true,
        reason: 'cancellation at period end applied by the billing run',
        steps: [
          { system: 'BILLING', status: 'DONE' },
          { system: 'ERP', status: 'SKIPPED' },
          { system: 'CRM', status: 'PENDING' },
        ],
      });
      expect(events[2]?.data).toMatchObject({ status: 'CANCELLED', amendmentId: applied.id });
      await publish('contract.synced', sub.id, {
        subscriptionId: sub.id,
        customerId: sub.customerId,
        subscriptionVersion: 3,
        amendmentId: applied.id,
        contractValueMinor: 0,
        currency: 'USD',
      });
      await statusOf(applied.id, 'COMPLETED');
    });

    it.each([
      [
        'a date outside the period',
        { mode: 'IMMEDIATELY', effectiveDate: '2026-04-15' },
        'EFFECTIVE_DATE_OUT_OF_PERIOD',
      ],
      [
        'IMMEDIATELY on the period end',
        { mode: 'IMMEDIATELY', effectiveDate: '2026-04-01' },
        'EFFECTIVE_DATE_OUT_OF_PERIOD',
      ],
      [
        'AT_PERIOD_END with another date',
        { mode: 'AT_PERIOD_END', effectiveDate: '2026-03-20' },
        'EFFECTIVE_DATE_OUT_OF_PERIOD',
      ],
      ['a stale version', { mode: 'IMMEDIATELY', expectedVersion: 3 }, 'VERSION_CONFLICT'],
    ])('refuses %s with %s and writes nothing', async (_label, overrides, code) => {
      const sub = await aSubscription(3);
      const before = await writeCounts(stack);
      expect((await cancel({ subscriptionId: sub.id, ...overrides })).userErrors).toEqual([
        expect.objectContaining({ code }),
      ]);
      expect(await writeCounts(stack)).toEqual(before);
    });
  });

  describe('reads', () => {
    it('resolves N amendment references with one query per table', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const sub = await aSubscription(2);
        ids.push((await amend({ subscriptionId: sub.id, seats: 3 })).amendment.id);
      }
      const statements: string[] = [];
      const stop = stack.database.onQuery((sql) => statements.push(sql));
      const result = await graphql<Data>(
        url,
        `
          query ($reps: [_Any!]!) {
            _entities(representations: $reps) {
              ... on Amendment {
                id
                status
                steps {
                  system
                }
                subscription {
                  id
                }
                invoice {
                  id
                }
              }
            }
          }
        `,
        { reps: ids.map((id) => ({ __typename: 'Amendment', id })) },
      );
      stop();
      expect(result.errors).toBeUndefined();
      expect((result.data as any)._entities.map((e: any) => e.id)).toEqual(ids);
      const selects = (table: string) =>
        statements.filter((s) => /^\s*select/i.test(s) && s.includes(`"subscription"."${table}"`)).length;
      expect(selects('amendment')).toBe(1);
      expect(selects('amendment_step')).toBe(1);
      expect(selects('subscription')).toBe(1);
      expect(selects('invoice')).toBe(1);
    });

    it('answers null for an unknown or malformed amendment id', async () => {
      expect(await amendment(randomUUID())).toBeNull();
      expect(await amendment('not-a-uuid')).toBeNull();
    });
  });
});
