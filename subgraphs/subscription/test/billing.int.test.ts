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
  aCustomerData,
  addBillTo,
  aPlan,
  billTo,
  CREATE_PLAN,
  CREATE_SUBSCRIPTION,
  envelope,
  outboxFor,
  writeCounts,
} from './support.ts';

const SUBSCRIPTION = /* GraphQL */ `
  query ($id: ID!, $first: Int, $after: String) {
    billingSubscription(id: $id) {
      id
      status
      seats
      version
      startDate
      currentPeriod {
        start
        end
      }
      customer {
        id
      }
      plan {
        code
        billingPeriod
        unitPrice {
          amount
          currency
        }
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
        }
      }
    }
  }
`;
const INVOICE = /* GraphQL */ `
  query ($id: ID!) {
    invoice(id: $id) {
      id
      number
      kind
      status
      issuedOn
      dueOn
      taxRateMissing
      subtotal {
        amount
        currency
      }
      tax {
        amount
        currency
      }
      total {
        amount
        currency
      }
      customer {
        id
      }
      subscription {
        id
      }
      lines {
        description
        quantity
        unitPrice {
          amount
          currency
        }
        amount {
          amount
          currency
        }
        taxRate
        tax {
          amount
          currency
        }
        periodStart
        periodEnd
      }
    }
  }
`;

type Data = any;

describe('subscription subgraph: plans, subscriptions, invoices', () => {
  let stack: TestSubgraphs;
  let url: string;
  const headers = { 'x-c2c-caller': 'billing-admin' };

  const createPlan = async (overrides: Record<string, unknown> = {}) =>
    (await graphql<Data>(url, CREATE_PLAN, { input: aPlan(overrides) }, headers)).data?.createPlan;
  const subscribe = async (input: Record<string, unknown>, extraHeaders: Record<string, string> = {}) =>
    (
      await graphql<Data>(
        url,
        CREATE_SUBSCRIPTION,
        { input: { seats: 3, startDate: '2026-03-01', idempotencyKey: unique('key'), ...input } },
        {
          ...headers,
          ...extraHeaders,
        },
      )
    ).data?.createSubscription;

  beforeAll(async () => {
    stack = await startTestSubgraphs([buildSubscriptionSubgraph], {
      clock: fixedClock('2026-03-10T12:00:00Z'),
    });
    url = stack.url('subscription');
  });
  afterAll(() => stack.close());

  describe('createPlan', () => {
    it('adds a plan to the catalog', async () => {
      const input = aPlan({ name: '  Pro monthly  ', unitPrice: { amount: '9.95', currency: 'USD' } });
      const payload = (await graphql<Data>(url, CREATE_PLAN, { input }, headers)).data?.createPlan;
      expect(payload).toEqual({
        plan: {
          code: input.code,
          name: 'Pro monthly',
          billingPeriod: 'MONTH',
          unitPrice: { amount: '9.95', currency: 'USD' },
        },
        userErrors: [],
      });
      const read = await graphql<Data>(
        url,
        `
          query ($code: String!) {
            plan(code: $code) {
              code
              minSeats
              maxSeats
              createdAt
            }
          }
        `,
        { code: input.code },
      );
      expect(read.data?.plan).toMatchObject({ code: input.code, minSeats: 1, maxSeats: 10000 });
    });

    it('lists plans ordered by code and answers null for unknown or malformed codes', async () => {
      const codes = ['ZZ-LAST', 'AA-FIRST'].map(
        (prefix) => `${prefix}-${randomUUID().slice(0, 8).toUpperCase()}`,
      );
      for (const code of codes) await createPlan({ code });
      const plans = (
        await graphql<Data>(
          url,
          `
            {
              plans {
                code
              }
            }
          `,
        )
      ).data?.plans.map((p: { code: string }) => p.code);
      expect(plans).toEqual([...plans].sort());
      expect(plans).toEqual(expect.arrayContaining(codes));
      for (const code of ['NOPE-NOT-THERE', 'bad\u0000code', 'x'.repeat(500)]) {
        const result = await graphql<Data>(
          url,
          `
            query ($code: String!) {
              plan(code: $code) {
                code
              }
            }
          `,
          { code },
        );
        expect(result).toEqual({ data: { plan: null } });
      }
    });

    it('keeps JPY and BHD prices in their own exponents', async () => {
      expect((await createPlan({ unitPrice: { amount: '1500', currency: 'JPY' } })).plan.unitPrice).toEqual({
        amount: '1500',
        currency: 'JPY',
      });
      expect((await createPlan({ unitPrice: { amount: '1.5', currency: 'BHD' } })).plan.unitPrice).toEqual({
        amount: '1.500',
        currency: 'BHD',
      });
    });

    it('replays the stored response for a repeated key and refuses the key with another input', async () => {
      const input = aPlan();
      const first = (await graphql<Data>(url, CREATE_PLAN, { input }, headers)).data?.createPlan;
      const before = await writeCounts(stack);
      const again = (await graphql<Data>(url, CREATE_PLAN, { input }, headers)).data?.createPlan;
      expect(again).toEqual(first);
      expect(await writeCounts(stack)).toEqual(before);
      const reused = (await graphql<Data>(url, CREATE_PLAN, { input: { ...input, name: 'Other' } }, headers))
        .data?.createPlan;
      expect(reused).toEqual({
        plan: null,
        userErrors: [expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'idempotencyKey' })],
      });
      expect(await writeCounts(stack)).toEqual(before);
    });

    it('refuses a taken code', async () => {
      const code = aPlan().code;
      await createPlan({ code });
      const before = await writeCounts(stack);
      expect(await createPlan({ code })).toEqual({
        plan: null,
        userErrors: [expect.objectContaining({ code: 'PLAN_CODE_TAKEN', field: 'code' })],
      });
      expect(await writeCounts(stack)).toEqual(before);
    });

    it.each([
      ['a lowercase code', { code: 'pro-monthly' }, 'INVALID_PLAN_CODE', 'code'],
      ['a code over 64 characters', { code: 'P'.repeat(65) }, 'INVALID_PLAN_CODE', 'code'],
      ['a code with a NUL', { code: 'PRO\u0000' }, 'INVALID_PLAN_CODE', 'code'],
      ['a name with a NUL', { name: 'Pro\u0000' }, 'INVALID_TEXT', 'name'],
      ['a name over 200 characters', { name: 'x'.repeat(201) }, 'TOO_LONG', 'name'],
      ['an empty name', { name: '  ' }, 'REQUIRED', 'name'],
      [
        'too many decimals for USD',
        { unitPrice: { amount: '9.999', currency: 'USD' } },
        'INVALID_AMOUNT',
        'unitPrice.amount',
      ],
      [
        'decimals for JPY',
        { unitPrice: { amount: '1.5', currency: 'JPY' } },
        'INVALID_AMOUNT',
        'unitPrice.amount',
      ],
      [
        'a zero price',
        { unitPrice: { amount: '0.00', currency: 'USD' } },
        'INVALID_AMOUNT',
        'unitPrice.amount',
      ],
      [
        'a negative price',
        { unitPrice: { amount: '-1.00', currency: 'USD' } },
        'INVALID_AMOUNT',
        'unitPrice.amount',
      ],
      [
        'an absurd price',
        { unitPrice: { amount: '100000000000000000', currency: 'USD' } },
        'AMOUNT_OUT_OF_RANGE',
        'unitPrice.amount',
      ],
      [
        'an ISO currency billing does not support',
        { unitPrice: { amount: '10.00', currency: 'BTN' } },
        'UNSUPPORTED_CURRENCY',
        'unitPrice.currency',
      ],
      ['zero minimum seats', { minSeats: 0 }, 'INVALID_SEAT_BOUNDS', 'minSeats'],
      ['a maximum below the minimum', { minSeats: 5, maxSeats: 4 }, 'INVALID_SEAT_BOUNDS', 'maxSeats'],
      ['a maximum over a million', { maxSeats: 1_000_001 }, 'INVALID_SEAT_BOUNDS', 'maxSeats'],
      ['an empty idempotency key', { idempotencyKey: '' }, 'INVALID_IDEMPOTENCY_KEY', 'idempotencyKey'],
      [
        'an idempotency key over 255 characters',
        { idempotencyKey: 'k'.repeat(256) },
        'INVALID_IDEMPOTENCY_KEY',
        'idempotencyKey',
      ],
    ])('rejects %s with a userError and writes nothing', async (_label, overrides, code, field) => {
      const before = await writeCounts(stack);
      expect(await createPlan(overrides)).toEqual({
        plan: null,
        userErrors: [expect.objectContaining({ code, field })],
      });
      expect(await writeCounts(stack)).toEqual(before);
    });

    it.each([
      ['a currency that is not ISO 4217', { unitPrice: { amount: '10.00', currency: 'ABC' } }],
      ['a float amount', { unitPrice: { amount: 9.95, currency: 'USD' } }],
      ['an amount in exponent form', { unitPrice: { amount: '1e3', currency: 'USD' } }],
      ['an unknown billing period', { billingPeriod: 'WEEK' }],
    ])('rejects %s at validation with a GraphQL error and writes nothing', async (_label, overrides) => {
      const before = await writeCounts(stack);
      const result = await graphql(url, CREATE_PLAN, { input: aPlan(overrides) }, headers);
      expect(result.data).toBeUndefined();
      expect(result.errors?.length).toBeGreaterThan(0);
      expect(await writeCounts(stack)).toEqual(before);
    });
  });

  describe('createSubscription', () => {
    it('starts a subscription and invoices its first period in advance, with both events', async () => {
      const plan = (await createPlan({ unitPrice: { amount: '9.95', currency: 'USD' }, name: 'Pro' })).plan;
      const customerId = await addBillTo(stack, { country: 'DE', businessUnit: 'EMEA' });
      const correlationId = `corr-${randomUUID()}`;
      const payload = await subscribe(
        { customerId, planCode: plan.code, seats: 3, startDate: '2026-03-01' },
        { 'x-correlation-id': correlationId },
      );
      expect(payload.userErrors).toEqual([]);
      const subscription = payload.subscription;
      expect(subscription).toMatchObject({
        status: 'ACTIVE',
        seats: 3,
        version: 1,
        startDate: '2026-03-01',
        currentPeriod: { start: '2026-03-01', end: '2026-04-01' },
      });
      expect(subscription.invoices.nodes).toHaveLength(1);
      const [node] = subscription.invoices.nodes;
      expect(node.number).toMatch(/^INV-\d{6}$/);
      // 3 × 9.95 = 29.85; DE 19% → 5.6715 → 5.67 (HALF_UP once, on the line).
      expect(node.total).toEqual({ amount: '35.52', currency: 'USD' });

      const invoice = (await graphql<Data>(url, INVOICE, { id: node.id })).data?.invoice;
      expect(invoice).toEqual({
        id: node.id,
        number: node.number,
        kind: 'INVOICE',
        status: 'OPEN',
        issuedOn: '2026-03-01',
        dueOn: '2026-03-31',
        taxRateMissing: false,
        subtotal: { amount: '29.85', currency: 'USD' },
        tax: { amount: '5.67', currency: 'USD' },
        total: { amount: '35.52', currency: 'USD' },
        customer: { id: customerId },
        subscription: { id: subscription.id },
        lines: [
          {
            description: 'Pro: 3 seats, 2026-03-01 to 2026-04-01',
            quantity: 3,
            unitPrice: { amount: '9.95', currency: 'USD' },
            amount: { amount: '29.85', currency: 'USD' },
            taxRate: '0.19',
            tax: { amount: '5.67', currency: 'USD' },
            periodStart: '2026-03-01',
            periodEnd: '2026-04-01',
          },
        ],
      });

      const events = await outboxFor(stack, [subscription.id, node.id]);
      expect(events.map((e) => [e.type, e.aggregate_version, e.correlation_id])).toEqual([
        ['subscription.created', 1, correlationId],
        ['invoice.issued', 1, correlationId],
      ]);
      expect(events[0]?.data).toEqual({
        id: subscription.id,
        customerId,
        planCode: plan.code,
        billingPeriod: 'MONTH',
        status: 'ACTIVE',
        seats: 3,
        unitPriceMinor: 995,
        currency: 'USD',
        startDate: '2026-03-01',
        currentPeriod: { start: '2026-03-01', end: '2026-04-01' },
        version: 1,
      });
      expect(events[1]?.data).toEqual({
        id: node.id,
        number: node.number,
        kind: 'INVOICE',
        customerId,
        subscriptionId: subscription.id,
        businessUnit: 'EMEA',
        currency: 'USD',
        issuedOn: '2026-03-01',
        dueOn: '2026-03-31',
        subtotalMinor: 2985,
        taxMinor: 567,
        totalMinor: 3552,
        lines: [
          {
            id: expect.stringMatching(/^[0-9a-f-]{36}$/),
            description: 'Pro: 3 seats, 2026-03-01 to 2026-04-01',
            quantity: 3,
            unitPriceMinor: 995,
            amountMinor: 2985,
            taxMinor: 567,
            taxRatePpm: 190000,
            periodStart: '2026-03-01',
            periodEnd: '2026-04-01',
          },
        ],
      });
    });

    it('issues a future start today and uses a US state rate', async () => {
      const plan = (await createPlan({ unitPrice: { amount: '9.95', currency: 'USD' } })).plan;
      const customerId = await addBillTo(stack, { country: 'US', region: 'CA' });
      const payload = await subscribe({ customerId, planCode: plan.code, seats: 3, startDate: '2026-06-15' });
      const invoice = (await graphql<Data>(url, INVOICE, { id: payload.subscription.invoices.nodes[0].id }))
        .data?.invoice;
      // 29.85 × 7.25% = 2.164125 → 2.16
      expect(invoice).toMatchObject({
        issuedOn: '2026-03-10',
        dueOn: '2026-04-09',
        tax: { amount: '2.16' },
        total: { amount: '32.01' },
      });
      expect(invoice.lines[0]).toMatchObject({
        taxRate: '0.0725',
        periodStart: '2026-06-15',
        periodEnd: '2026-07-15',
      });
    });

    it.each([
      ['KW (no rate)', { country: 'KW' }],
      ['a US customer without a state', { country: 'US', region: null }],
    ])('taxes %s at 0 and flags the invoice', async (_label, address) => {
      const plan = (await createPlan({ unitPrice: { amount: '1.250', currency: 'KWD' } })).plan;
      const customerId = await addBillTo(stack, address);
      const payload = await subscribe({ customerId, planCode: plan.code, seats: 2 });
      const invoice = (await graphql<Data>(url, INVOICE, { id: payload.subscription.invoices.nodes[0].id }))
        .data?.invoice;
      expect(invoice).toMatchObject({
        taxRateMissing: true,
        tax: { amount: '0.000', currency: 'KWD' },
        total: { amount: '2.500', currency: 'KWD' },
      });
      expect(invoice.lines[0].taxRate).toBe('0.0');
    });

    it('bills JPY and BHD with their exponents, rounding tax HALF_UP', async () => {
      const jpy = (await createPlan({ unitPrice: { amount: '1255', currency: 'JPY' } })).plan;
      const jp = await addBillTo(stack, { country: 'JP' });
      const jpInvoice = (await subscribe({ customerId: jp, planCode: jpy.code, seats: 1 })).subscription
        .invoices.nodes[0];
      expect(jpInvoice.total).toEqual({ amount: '1381', currency: 'JPY' }); // 1255 + 125.5 → 126
      const bhd = (await createPlan({ unitPrice: { amount: '12.345', currency: 'BHD' } })).plan;
      const bh = await addBillTo(stack, { country: 'BH' });
      const bhInvoice = (await subscribe({ customerId: bh, planCode: bhd.code, seats: 1 })).subscription
        .invoices.nodes[0];
      expect(bhInvoice.total).toEqual({ amount: '13.580', currency: 'BHD' }); // 12.345 + 1.2345 → 1.235
    });

    it('replays a repeated key without writing twice and refuses the key with another input', async () => {
      const plan = (await createPlan()).plan;
      const customerId = await addBillTo(stack);
      const input = {
        customerId,
        planCode: plan.code,
        seats: 2,
        startDate: '2026-03-01',
        idempotencyKey: unique('key'),
      };
      const first = await subscribe(input);
      const before = await writeCounts(stack);
      const again = await subscribe(input);
      expect(again).toEqual(first);
      expect(await writeCounts(stack)).toEqual(before);
      const reused = await subscribe({ ...input, seats: 3 });
      expect(reused).toEqual({
        subscription: null,
        userErrors: [expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' })],
      });
      expect(await writeCounts(stack)).toEqual(before);
    });

    it('rejects a customer whose currency differs from its other subscriptions', async () => {
      const usd = (await createPlan({ unitPrice: { amount: '10.00', currency: 'USD' } })).plan;
      const eur = (await createPlan({ unitPrice: { amount: '10.00', currency: 'EUR' } })).plan;
      const customerId = await addBillTo(stack);
      expect((await subscribe({ customerId, planCode: usd.code })).userErrors).toEqual([]);
      const before = await writeCounts(stack);
      expect(await subscribe({ customerId, planCode: eur.code })).toEqual({
        subscription: null,
        userErrors: [expect.objectContaining({ code: 'CURRENCY_MISMATCH', field: 'planCode' })],
      });
      expect(await writeCounts(stack)).toEqual(before);
    });

    describe('bad input', () => {
      let planCode: string;
      let active: string;
      let suspended: string;
      beforeAll(async () => {
        planCode = (await createPlan({ minSeats: 1, maxSeats: 10 })).plan.code;
        active = await addBillTo(stack);
        suspended = await addBillTo(stack, { status: 'SUSPENDED' });
      });

      it.each([
        ['an unknown customer', () => ({ customerId: randomUUID() }), 'UNKNOWN_CUSTOMER', 'customerId'],
        ['a malformed customer id', () => ({ customerId: 'not-a-uuid' }), 'UNKNOWN_CUSTOMER', 'customerId'],
        ['a suspended customer', () => ({ customerId: suspended }), 'CUSTOMER_NOT_ACTIVE', 'customerId'],
        ['an unknown plan', () => ({ planCode: 'NO-SUCH-PLAN' }), 'PLAN_NOT_FOUND', 'planCode'],
        ['a plan code with a NUL', () => ({ planCode: 'PRO\u0000' }), 'PLAN_NOT_FOUND', 'planCode'],
        ['zero seats', () => ({ seats: 0 }), 'INVALID_SEATS', 'seats'],
        ['negative seats', () => ({ seats: -5 }), 'INVALID_SEATS', 'seats'],
        ['an absurd seat count', () => ({ seats: 1_000_000_000 }), 'INVALID_SEATS', 'seats'],
        ['seats above the plan maximum', () => ({ seats: 11 }), 'INVALID_SEATS', 'seats'],
        [
          'an idempotency key over 255 characters',
          () => ({ idempotencyKey: 'k'.repeat(256) }),
          'INVALID_IDEMPOTENCY_KEY',
          'idempotencyKey',
        ],
        [
          'an idempotency key with a NUL',
          () => ({ idempotencyKey: 'k\u0000' }),
          'INVALID_IDEMPOTENCY_KEY',
          'idempotencyKey',
        ],
      ])('rejects %s with a userError and writes nothing', async (_label, overrides, code, field) => {
        const before = await writeCounts(stack);
        const payload = await subscribe({ customerId: active, planCode, ...overrides() });
        expect(payload).toEqual({
          subscription: null,
          userErrors: [expect.objectContaining({ code, field })],
        });
        expect(payload.userErrors[0].message.length).toBeGreaterThan(10);
        expect(await writeCounts(stack)).toEqual(before);
      });

      it('explains an unknown customer as a missing bill-to account', async () => {
        const payload = await subscribe({ customerId: randomUUID(), planCode });
        expect(payload.userErrors[0].message).toMatch(
          /no bill-to account.*customer\.created event has not arrived/,
        );
      });

      it.each([
        ['an impossible date', { startDate: '2026-02-30' }],
        ['a word instead of a date', { startDate: 'yesterday' }],
        ['seats as a float', { seats: 2.5 }],
        ['seats beyond a 32-bit integer', { seats: 10 ** 10 }],
      ])('rejects %s at validation with a GraphQL error and writes nothing', async (_label, overrides) => {
        const before = await writeCounts(stack);
        const result = await graphql(url, CREATE_SUBSCRIPTION, {
          input: {
            customerId: active,
            planCode,
            seats: 1,
            startDate: '2026-03-01',
            idempotencyKey: unique('key'),
            ...overrides,
          },
        });
        expect(result.data).toBeUndefined();
        expect(result.errors?.length).toBeGreaterThan(0);
        expect(await writeCounts(stack)).toEqual(before);
      });
    });
  });

  describe('reads', () => {
    it('pages invoices newest first and rejects page sizes outside 1–100 and foreign cursors', async () => {
      const plan = (await createPlan()).plan;
      const customerId = await addBillTo(stack);
      const id = (await subscribe({ customerId, planCode: plan.code })).subscription.id;
      const page = (await graphql<Data>(url, SUBSCRIPTION, { id, first: 1 })).data?.billingSubscription;
      expect(page).toMatchObject({ customer: { id: customerId }, plan: { code: plan.code } });
      expect(page.invoices).toMatchObject({ totalCount: 1, pageInfo: { hasNextPage: false } });
      const next = (
        await graphql<Data>(url, SUBSCRIPTION, { id, first: 1, after: page.invoices.pageInfo.endCursor })
      ).data?.billingSubscription;
      expect(next.invoices).toEqual({
        totalCount: 1,
        pageInfo: { hasNextPage: false, endCursor: null },
        nodes: [],
      });
      for (const first of [0, 101, -1]) {
        const bad = await graphql(url, SUBSCRIPTION, { id, first });
        expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_PAGE_SIZE');
      }
      const badCursor = await graphql(url, SUBSCRIPTION, { id, first: 5, after: 'garbage' });
      expect(badCursor.errors?.[0]?.extensions?.code).toBe('INVALID_CURSOR');
    });

    it('answers null for unknown and malformed ids', async () => {
      for (const id of [randomUUID(), 'nope', '1; drop table invoice']) {
        expect(
          await graphql(
            url,
            `
              query ($id: ID!) {
                billingSubscription(id: $id) {
                  id
                }
                invoice(id: $id) {
                  id
                }
              }
            `,
            { id },
          ),
        ).toEqual({
          data: { billingSubscription: null, invoice: null },
        });
      }
    });
  });

  describe('events from other subgraphs', () => {
    it('keeps the bill-to replica from customer events and ignores stale versions', async () => {
      const data = aCustomerData({ name: 'Initial' });
      const updated = { ...data, name: 'Renamed', country: 'FR', version: 2 };
      const stale = { ...data, name: 'Stale', version: 1 };
      const events = [
        envelope('customer', 'customer.created', data.id, data, 1),
        envelope('customer', 'customer.updated', data.id, updated, 2),
        envelope('customer', 'customer.updated', data.id, stale, 1),
      ];
      await stack.transport.publish(events);
      await waitFor(async () => {
        const seen = await stack.database.db
          .withSchema('subscription')
          .selectFrom('inbox')
          .select('event_id')
          .where('consumer', '=', 'subscription.bill-to')
          .where(
            'event_id',
            'in',
            events.map((e) => e.id),
          )
          .execute();
        return seen.length === events.length;
      });
      expect(await billTo(stack, data.id)).toMatchObject({
        name: 'Renamed',
        country: 'FR',
        version: 2,
        status: 'ACTIVE',
      });
    });

    it('records ERP postings, failures and full payments on invoices', async () => {
      const plan = (await createPlan()).plan;
      const posted = (await subscribe({ customerId: await addBillTo(stack), planCode: plan.code }))
        .subscription.invoices.nodes[0].id;
      const failed = (await subscribe({ customerId: await addBillTo(stack), planCode: plan.code }))
        .subscription.invoices.nodes[0].id;
      const journalEntryId = randomUUID();
      await stack.transport.publish([
        envelope('finance', 'invoice.posted', posted, {
          invoiceId: posted,
          journalEntryId,
          postedAt: '2026-03-10T12:00:01.000Z',
        }),
        envelope('finance', 'payment.applied', posted, {
          paymentId: randomUUID(),
          invoiceId: posted,
          amountMinor: 1000,
          currency: 'USD',
          receivedOn: '2026-03-10',
          amountDueMinor: 2183,
        }),
        envelope('finance', 'posting.failed', failed, {
          invoiceId: failed,
          error: 'no account for business unit',
        }),
      ]);
      const posting = (id: string) =>
        stack.database.db
          .withSchema('subscription')
          .selectFrom('invoice')
          .select(['posting_status', 'journal_entry_id', 'posting_error', 'status'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
      await waitFor(
        async () =>
          (await posting(posted)).posting_status === 'POSTED' &&
          (await posting(failed)).posting_status === 'FAILED',
      );
      expect(await posting(posted)).toMatchObject({ journal_entry_id: journalEntryId, status: 'OPEN' });
      expect(await posting(failed)).toMatchObject({
        posting_error: 'no account for business unit',
        status: 'OPEN',
      });

      const status = async () =>
        (
          await graphql<Data>(
            url,
            `
              query ($id: ID!) {
                invoice(id: $id) {
                  status
                }
              }
            `,
            { id: posted },
          )
        ).data?.invoice.status;
      expect(await status()).toBe('OPEN'); // the partial payment left an amount due
      await stack.transport.publish([
        envelope('finance', 'payment.applied', posted, {
          paymentId: randomUUID(),
          invoiceId: posted,
          amountMinor: 2183,
          currency: 'USD',
          receivedOn: '2026-03-11',
          amountDueMinor: 0,
        }),
      ]);
      await waitFor(async () => (await status()) === 'PAID');
    });
  });
});
