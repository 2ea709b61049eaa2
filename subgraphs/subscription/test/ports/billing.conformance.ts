import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixedClock,
  graphql,
  startTestSubgraphs,
  unique,
  waitFor,
  type TestSubgraphs,
} from '@c2c/platform/testing';
import { buildSubscriptionSubgraph } from '../../src/index.ts';
import {
  aCustomerData,
  aPlan,
  AMEND,
  CREATE_PLAN,
  CREATE_SUBSCRIPTION,
  envelope,
  PREVIEW,
} from '../support.ts';

/** A line of a document as the system of record holds it (amounts as decimal strings). */
export interface LineInPlatform {
  quantity: number;
  amount: string;
  tax: string;
  periodStart: string;
  periodEnd: string;
}

/** A document the system of record holds under our id. */
export interface DocumentInPlatform {
  id: string;
  kind: 'INVOICE' | 'CREDIT_NOTE';
  subtotal: string;
  tax: string;
  total: string;
  lines: LineInPlatform[];
}

/** A subscription the system of record holds under our id. */
export interface SubscriptionInPlatform {
  id: string;
  status: string;
  seats: number;
  version: number;
  cancelAt: string | null;
  cancelledOn: string | null;
}

/** The running billing subgraph with the adapter under test. */
export interface BillingHarness {
  stack: TestSubgraphs;
  url: string;
}

/** One adapter under test: its environment and a way to look into its system of record directly. */
export interface BillingUnderTest {
  env: Record<string, string>;
  /** The bill-to customer under our id, once the platform has it. */
  hasCustomer(h: BillingHarness, customerId: string): Promise<boolean>;
  /** Plans the platform holds under a code. */
  plans(h: BillingHarness, code: string): Promise<{ code: string; unitPrice: string }[]>;
  /** Subscriptions the platform holds for one of our customers (a retry must never make a second). */
  subscriptions(h: BillingHarness, customerId: string): Promise<SubscriptionInPlatform[]>;
  /** Documents the platform holds for one of our subscriptions, in issue order, with their lines. */
  documents(h: BillingHarness, subscriptionId: string): Promise<DocumentInPlatform[]>;
}

/** "Today" for the suite: DOMAIN's proration example lives in May 2012 (Germany: 19 % VAT). */
const TODAY = '2012-05-10T12:00:00Z';

const CANCEL = /* GraphQL */ `
  mutation ($input: CancelSubscriptionInput!) {
    cancelSubscription(input: $input) {
      amendment {
        id
        creditNote {
          id
          total {
            amount
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

type Data = any;

/**
 * What every billing adapter must do (docs/adapters.md, "The billing port"): open each
 * subscription and its first invoice once, however often the request is repeated; bill an
 * amendment's proration exactly to the cent (lines, tax, total) as DOMAIN's rule computes it;
 * cancel; preview without writing; refuse with our codes, writing nothing. Checked through the
 * subgraph's GraphQL API and our outbox, and by reading the system of record itself.
 */
export function billingConformance(name: string, make: () => BillingUnderTest | null): void {
  const billing = make();
  describe.skipIf(billing === null)(`BillingPort conformance: ${name}`, () => {
    const platform = billing!;
    let h: BillingHarness;
    let planCode: string;
    const headers = { 'x-c2c-caller': 'conformance' };
    const call = async (query: string, input: Record<string, unknown>) =>
      (await graphql<Data>(h.url, query, { input }, headers)).data;
    const outbox = async (subject: string, type: string) => {
      const row = await h.stack.database.db
        .withSchema('subscription')
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('subject', '=', subject)
        .where('type', '=', type)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };
    const outboxTotal = async () => {
      const row = await h.stack.database.db
        .withSchema('subscription')
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };
    /** A German customer, announced as the CRM would, once the platform holds it. */
    const aCustomer = async () => {
      const data = aCustomerData({ country: 'DE' });
      await h.stack.transport.publish([
        envelope('customer', 'customer.created', data.id, data, data.version),
      ]);
      await waitFor(() => platform.hasCustomer(h, data.id), 10_000, `customer ${data.id} in the platform`);
      return data.id;
    };
    const subscribe = async (customerId: string, seats: number, idempotencyKey = unique('sub')) =>
      (
        await call(CREATE_SUBSCRIPTION, {
          customerId,
          planCode,
          seats,
          startDate: '2012-05-01',
          idempotencyKey,
        })
      ).createSubscription;
    const aSubscription = async (seats: number) => {
      const customerId = await aCustomer();
      const created = await subscribe(customerId, seats);
      expect(created.userErrors).toEqual([]);
      return { id: created.subscription.id as string, customerId };
    };

    beforeAll(async () => {
      const stack = await startTestSubgraphs([buildSubscriptionSubgraph], {
        clock: fixedClock(TODAY),
        env: platform.env,
      });
      h = { stack, url: stack.url('subscription') };
      // DOMAIN's example: 9.95 USD per seat and month.
      const plan = aPlan({ unitPrice: { amount: '9.95', currency: 'USD' }, minSeats: 1, maxSeats: 10 });
      const created = (await call(CREATE_PLAN, plan)).createPlan;
      expect(created.userErrors).toEqual([]);
      planCode = plan.code;
    }, 60_000);
    afterAll(() => h?.stack.close());

    it('holds a plan once under its code and refuses the code again with PLAN_CODE_TAKEN', async () => {
      const again = (
        await call(CREATE_PLAN, aPlan({ code: planCode, unitPrice: { amount: '1.00', currency: 'USD' } }))
      ).createPlan;
      expect(again.userErrors).toMatchObject([{ code: 'PLAN_CODE_TAKEN', field: 'code' }]);
      expect(await platform.plans(h, planCode)).toEqual([{ code: planCode, unitPrice: '9.95' }]);
    });

    it('opens a subscription and its first invoice once when the request is repeated with its key', async () => {
      const customerId = await aCustomer();
      const key = unique('sub');
      const first = await subscribe(customerId, 1, key);
      const again = await subscribe(customerId, 1, key);
      expect(first.userErrors).toEqual([]);
      expect(again.subscription.id).toBe(first.subscription.id);
      const id = first.subscription.id as string;
      expect(await platform.subscriptions(h, customerId)).toEqual([
        { id, status: 'ACTIVE', seats: 1, version: 1, cancelAt: null, cancelledOn: null },
      ]);
      // One seat for May 2012: 9.95; 19 % VAT 1.8905 → 1.89; 11.84.
      const documents = await platform.documents(h, id);
      expect(documents).toEqual([
        {
          id: first.subscription.invoices.nodes[0].id,
          kind: 'INVOICE',
          subtotal: '9.95',
          tax: '1.89',
          total: '11.84',
          lines: [
            { quantity: 1, amount: '9.95', tax: '1.89', periodStart: '2012-05-01', periodEnd: '2012-06-01' },
          ],
        },
      ]);
      expect(await outbox(id, 'subscription.created')).toBe(1);
      expect(await outbox(documents[0]!.id, 'invoice.issued')).toBe(1);
    });

    it("bills an amendment's proration exactly to the cent, once per key (DOMAIN's example)", async () => {
      const sub = await aSubscription(1);
      const input = {
        subscriptionId: sub.id,
        seats: 2,
        effectiveDate: '2012-05-07',
        expectedVersion: 1,
        idempotencyKey: unique('amend'),
      };
      const payload = (await call(AMEND, input)).amendSubscription;
      const again = (await call(AMEND, input)).amendSubscription;
      expect(payload.userErrors).toEqual([]);
      expect(again.amendment.id).toBe(payload.amendment.id);
      // 1 → 2 seats on 2012-05-07: 9.95 × 25/31 = 8.024… → 8.02; 19 % VAT 1.5238 → 1.52; 9.54.
      expect(payload.amendment).toMatchObject({
        proration: { amount: '8.02', currency: 'USD' },
        invoice: { total: { amount: '9.54', currency: 'USD' } },
        creditNote: null,
      });
      expect(await platform.subscriptions(h, sub.customerId)).toMatchObject([
        { id: sub.id, status: 'ACTIVE', seats: 2, version: 2 },
      ]);
      const documents = await platform.documents(h, sub.id);
      expect(documents).toHaveLength(2);
      expect(documents[1]).toEqual({
        id: payload.amendment.invoice.id,
        kind: 'INVOICE',
        subtotal: '8.02',
        tax: '1.52',
        total: '9.54',
        lines: [
          { quantity: 1, amount: '8.02', tax: '1.52', periodStart: '2012-05-07', periodEnd: '2012-06-01' },
        ],
      });
      expect(await outbox(payload.amendment.invoice.id, 'invoice.issued')).toBe(1);
      expect(await outbox(sub.id, 'subscription.amended')).toBe(1);
    });

    it('credits a decrease with a credit note of negative amounts, tax reversed at the billed rate', async () => {
      const sub = await aSubscription(2);
      const payload = (
        await call(AMEND, {
          subscriptionId: sub.id,
          seats: 1,
          effectiveDate: '2012-05-20',
          idempotencyKey: unique('amend'),
        })
      ).amendSubscription;
      expect(payload.userErrors).toEqual([]);
      // −1 seat over [05-20, 06-01): 9.95 × 12/31 = 3.851… → −3.85; VAT −0.7315 → −0.73; −4.58.
      const documents = await platform.documents(h, sub.id);
      expect(documents[1]).toEqual({
        id: payload.amendment.creditNote.id,
        kind: 'CREDIT_NOTE',
        subtotal: '-3.85',
        tax: '-0.73',
        total: '-4.58',
        lines: [
          { quantity: -1, amount: '-3.85', tax: '-0.73', periodStart: '2012-05-20', periodEnd: '2012-06-01' },
        ],
      });
      expect(await outbox(payload.amendment.creditNote.id, 'creditnote.issued')).toBe(1);
    });

    it('cancels immediately with a credit, and at period end without a document', async () => {
      const now = await aSubscription(1);
      const immediate = (
        await call(CANCEL, {
          subscriptionId: now.id,
          mode: 'IMMEDIATELY',
          effectiveDate: '2012-05-20',
          idempotencyKey: unique('cancel'),
        })
      ).cancelSubscription;
      expect(immediate.userErrors).toEqual([]);
      expect(immediate.amendment.creditNote.total.amount).toBe('-4.58');
      expect(await platform.subscriptions(h, now.customerId)).toMatchObject([
        { id: now.id, status: 'CANCELLED', version: 2, cancelledOn: '2012-05-20', cancelAt: null },
      ]);
      expect((await platform.documents(h, now.id)).map((d) => [d.kind, d.total])).toEqual([
        ['INVOICE', '11.84'],
        ['CREDIT_NOTE', '-4.58'],
      ]);
      expect(await outbox(now.id, 'subscription.cancelled')).toBe(1);

      const later = await aSubscription(1);
      const scheduled = (
        await call(CANCEL, {
          subscriptionId: later.id,
          mode: 'AT_PERIOD_END',
          idempotencyKey: unique('cancel'),
        })
      ).cancelSubscription;
      expect(scheduled.userErrors).toEqual([]);
      expect(scheduled.amendment.creditNote).toBeNull();
      expect(await platform.subscriptions(h, later.customerId)).toMatchObject([
        { id: later.id, status: 'ACTIVE', version: 2, cancelAt: '2012-06-01', cancelledOn: null },
      ]);
      expect(await platform.documents(h, later.id)).toHaveLength(1);
    });

    it('previews exactly what the amendment then issues, and writes nothing', async () => {
      const sub = await aSubscription(1);
      const input = { subscriptionId: sub.id, seats: 2, effectiveDate: '2012-05-07' };
      const before = {
        subscriptions: await platform.subscriptions(h, sub.customerId),
        documents: await platform.documents(h, sub.id),
        outbox: await outboxTotal(),
      };
      const preview = (await graphql<Data>(h.url, PREVIEW, { input }, headers)).data?.previewAmendment;
      expect(preview).toMatchObject({
        documentKind: 'INVOICE',
        subtotal: { amount: '8.02' },
        tax: { amount: '1.52' },
        total: { amount: '9.54' },
        userErrors: [],
      });
      expect(preview.lines).toMatchObject([
        { quantity: 1, periodStart: '2012-05-07', periodEnd: '2012-06-01', amount: { amount: '8.02' } },
      ]);
      expect({
        subscriptions: await platform.subscriptions(h, sub.customerId),
        documents: await platform.documents(h, sub.id),
        outbox: await outboxTotal(),
      }).toEqual(before);
      const amended = (await call(AMEND, { ...input, idempotencyKey: unique('amend') })).amendSubscription;
      const issued = (await platform.documents(h, sub.id))[1]!;
      expect({ subtotal: issued.subtotal, tax: issued.tax, total: issued.total }).toEqual({
        subtotal: preview.subtotal.amount,
        tax: preview.tax.amount,
        total: preview.total.amount,
      });
      expect(issued.id).toBe(amended.amendment.invoice.id);
    });

    it('refuses with our codes and writes nothing: unknown plan, seats out of range, unknown customer', async () => {
      const customerId = await aCustomer();
      const outboxBefore = await outboxTotal();
      const refusals = [
        [{ planCode: 'NO-SUCH-PLAN' }, 'PLAN_NOT_FOUND', 'planCode'],
        [{ seats: 11 }, 'INVALID_SEATS', 'seats'],
        [{ seats: 0 }, 'INVALID_SEATS', 'seats'],
        [{ customerId: '0190a2b4-0000-7000-8000-000000000000' }, 'UNKNOWN_CUSTOMER', 'customerId'],
      ] as const;
      for (const [change, code, field] of refusals) {
        const payload = (
          await call(CREATE_SUBSCRIPTION, {
            customerId,
            planCode,
            seats: 1,
            startDate: '2012-05-01',
            idempotencyKey: unique('sub'),
            ...change,
          })
        ).createSubscription;
        expect(payload).toMatchObject({ subscription: null, userErrors: [{ code, field }] });
      }
      expect(await platform.subscriptions(h, customerId)).toEqual([]);
      expect(await platform.subscriptions(h, '0190a2b4-0000-7000-8000-000000000000')).toEqual([]);

      // An amendment out of the plan's range changes nothing in the platform either.
      const sub = await aSubscription(1);
      const held = {
        subscriptions: await platform.subscriptions(h, sub.customerId),
        documents: await platform.documents(h, sub.id),
      };
      const amended = (
        await call(AMEND, {
          subscriptionId: sub.id,
          seats: 11,
          effectiveDate: '2012-05-07',
          idempotencyKey: unique('amend'),
        })
      ).amendSubscription;
      expect(amended.userErrors).toMatchObject([{ code: 'INVALID_SEATS', field: 'seats' }]);
      expect({
        subscriptions: await platform.subscriptions(h, sub.customerId),
        documents: await platform.documents(h, sub.id),
      }).toEqual(held);
      // Only the successful subscription's two events were added.
      expect(await outboxTotal()).toBe(outboxBefore + 2);
    });
  });
}
