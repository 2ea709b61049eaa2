import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, graphql, startTestSubgraphs, unique, type TestSubgraphs } from '@c2c/platform/testing';
import { buildSubscriptionSubgraph } from '../src/index.ts';
import {
  addBillTo,
  AMEND,
  aPlan,
  CREATE_PLAN,
  CREATE_SUBSCRIPTION,
  PREVIEW,
  writeCounts,
} from './support.ts';

const CANCEL = /* GraphQL */ `
  mutation ($input: CancelSubscriptionInput!) {
    cancelSubscription(input: $input) {
      amendment {
        id
      }
      userErrors {
        code
        field
      }
    }
  }
`;
const DOCUMENTS = /* GraphQL */ `
  query ($id: ID!) {
    billingSubscription(id: $id) {
      seats
      invoices(first: 50) {
        nodes {
          kind
          subtotal {
            amount
          }
          tax {
            amount
          }
          total {
            amount
          }
          lines {
            quantity
            amount {
              amount
            }
            taxRate
            tax {
              amount
            }
            periodStart
            periodEnd
          }
        }
      }
    }
  }
`;

type Data = any;

/** Sum of "12.34" style decimals in minor units (2-digit currency). */
const cents = (amounts: string[]) => amounts.reduce((sum, a) => sum + Math.round(Number(a) * 100), 0);

describe('changes inside one period ( the timeline and the credit-note tax rule)', () => {
  let stack: TestSubgraphs;
  let url: string;
  let planCode: string;
  const headers = { 'x-c2c-caller': 'support-tool' };

  const amend = async (input: Record<string, unknown>) =>
    (await graphql<Data>(url, AMEND, { input: { idempotencyKey: unique('amend'), ...input } }, headers)).data
      ?.amendSubscription;
  const cancel = async (input: Record<string, unknown>) =>
    (await graphql<Data>(url, CANCEL, { input: { idempotencyKey: unique('cancel'), ...input } }, headers))
      .data?.cancelSubscription;
  const documents = async (id: string) =>
    (await graphql<Data>(url, DOCUMENTS, { id })).data?.billingSubscription;

  /** USD 9.95/seat/month on [2026-03-01, 2026-04-01) (31 days). */
  async function aSubscription(seats: number, country = 'DE') {
    const customerId = await addBillTo(stack, { country });
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
      clock: fixedClock('2026-03-20T12:00:00Z'),
    });
    url = stack.url('subscription');
    const plan = aPlan({ unitPrice: { amount: '9.95', currency: 'USD' }, minSeats: 1, maxSeats: 100 });
    expect(
      (await graphql<Data>(url, CREATE_PLAN, { input: plan }, headers)).data?.createPlan.userErrors,
    ).toEqual([]);
    planCode = plan.code;
    // A country whose rate drops from 20% to 10% on 2026-03-05, in the middle of the period.
    await stack.database.db
      .withSchema('subscription')
      .insertInto('tax_rate')
      .values([
        { country: 'XT', region: null, rate_ppm: 200000, valid_from: '2020-01-01', valid_to: '2026-03-05' },
        { country: 'XT', region: null, rate_ppm: 100000, valid_from: '2026-03-05', valid_to: null },
      ])
      .execute();
  });
  afterAll(() => stack.close());

  it('refuses an amendment or an immediate cancellation dated before the last change in force', async () => {
    const id = await aSubscription(3);
    expect((await amend({ subscriptionId: id, seats: 5, effectiveDate: '2026-03-10' })).userErrors).toEqual(
      [],
    );

    const backDated = await amend({ subscriptionId: id, seats: 4, effectiveDate: '2026-03-05' });
    expect(backDated.userErrors).toEqual([
      expect.objectContaining({ code: 'EFFECTIVE_DATE_BEFORE_LAST_CHANGE', field: 'effectiveDate' }),
    ]);
    const cancelled = await cancel({ subscriptionId: id, mode: 'IMMEDIATELY', effectiveDate: '2026-03-09' });
    expect(cancelled.userErrors).toEqual([
      expect.objectContaining({ code: 'EFFECTIVE_DATE_BEFORE_LAST_CHANGE' }),
    ]);

    // The same day is not before: prorated from the 5 seats in force on 2026-03-10.
    const sameDay = await amend({ subscriptionId: id, seats: 4, effectiveDate: '2026-03-10' });
    expect(sameDay.userErrors).toEqual([]);
    expect(sameDay.amendment.proration).toEqual({ amount: '-7.06', currency: 'USD' }); // −9.95 × 22/31

    // Seat-days: 3 seats × 9 days + 4 seats × 22 days at 9.95/31 a seat-day = 36.9129… The period
    // invoice (29.85) and the two prorations (+14.12, −7.06) net to 36.91.
    const { invoices } = await documents(id);
    expect(cents(invoices.nodes.map((doc: Data) => doc.subtotal.amount))).toBe(3691);
  });

  it('reverses tax at the rate the credited seats were billed at, not the rate of the day', async () => {
    const id = await aSubscription(3, 'XT'); // period invoice issued 2026-03-01 at 20%
    const payload = await amend({ subscriptionId: id, seats: 1, effectiveDate: '2026-03-10' });
    expect(payload.userErrors).toEqual([]);
    const { invoices } = await documents(id);
    const note = invoices.nodes.find((doc: Data) => doc.kind === 'CREDIT_NOTE');
    // −2 × 9.95 × 22/31 = −14.12; the 10% valid on 2026-03-10 would reverse −1.41, the 20% charged −2.82.
    expect(note).toMatchObject({
      subtotal: { amount: '-14.12' },
      tax: { amount: '-2.82' },
      total: { amount: '-16.94' },
      lines: [{ quantity: -2, taxRate: '0.2' }],
    });
  });

  it('splits a credit over seats billed at different rates, newest seats first', async () => {
    const id = await aSubscription(3, 'XT'); // 3 seats at 20%
    expect((await amend({ subscriptionId: id, seats: 5, effectiveDate: '2026-03-06' })).userErrors).toEqual(
      [],
    ); // +2 at 10%
    const payload = await amend({ subscriptionId: id, seats: 2, effectiveDate: '2026-03-10' });
    expect(payload.userErrors).toEqual([]);
    expect(payload.amendment.proration).toEqual({ amount: '-21.18', currency: 'USD' }); // −3 × 9.95 × 22/31
    const { invoices } = await documents(id);
    const note = invoices.nodes.find((doc: Data) => doc.kind === 'CREDIT_NOTE');
    expect(note).toMatchObject({
      subtotal: { amount: '-21.18' },
      tax: { amount: '-2.82' },
      lines: [
        { quantity: -2, amount: { amount: '-14.12' }, taxRate: '0.1', tax: { amount: '-1.41' } },
        { quantity: -1, amount: { amount: '-7.06' }, taxRate: '0.2', tax: { amount: '-1.41' } },
      ],
    });
  });

  it('previews exactly what the amendment then issues, writing nothing', async () => {
    const id = await aSubscription(3, 'XT');
    expect((await amend({ subscriptionId: id, seats: 5, effectiveDate: '2026-03-06' })).userErrors).toEqual(
      [],
    );
    const input = { subscriptionId: id, seats: 2, effectiveDate: '2026-03-10' };
    const before = await writeCounts(stack);
    const preview = (await graphql<Data>(url, PREVIEW, { input }, headers)).data?.previewAmendment;
    expect(await writeCounts(stack)).toEqual(before);
    expect(preview).toMatchObject({
      documentKind: 'CREDIT_NOTE',
      subtotal: { amount: '-21.18', currency: 'USD' },
      tax: { amount: '-2.82', currency: 'USD' },
      total: { amount: '-24.00', currency: 'USD' },
      userErrors: [],
    });
    const amended = await amend(input);
    expect(amended.amendment.creditNote.total).toEqual(preview.total);
    const { invoices } = await documents(id);
    const note = invoices.nodes.find((doc: Data) => doc.kind === 'CREDIT_NOTE');
    expect(
      note.lines.map((line: Data) => ({
        quantity: line.quantity,
        periodStart: line.periodStart,
        periodEnd: line.periodEnd,
        amount: line.amount.amount,
      })),
    ).toEqual(
      preview.lines.map((line: Data) => ({
        quantity: line.quantity,
        periodStart: line.periodStart,
        periodEnd: line.periodEnd,
        amount: line.amount.amount,
      })),
    );

    const scheduled = (
      await graphql<Data>(
        url,
        PREVIEW,
        { input: { ...input, seats: 4, effectiveDate: '2026-04-01' } },
        headers,
      )
    ).data?.previewAmendment;
    expect(scheduled).toMatchObject({ documentKind: 'NONE', lines: [], total: { amount: '0.00' } });
    const refused = (
      await graphql<Data>(
        url,
        PREVIEW,
        { input: { ...input, seats: 3, effectiveDate: '2026-03-05' } },
        headers,
      )
    ).data?.previewAmendment;
    expect(refused).toMatchObject({
      documentKind: null,
      total: null,
      userErrors: [expect.objectContaining({ code: 'EFFECTIVE_DATE_BEFORE_LAST_CHANGE' })],
    });
  });
});
