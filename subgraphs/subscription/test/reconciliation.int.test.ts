import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, graphql, startTestSubgraphs, unique, type TestSubgraphs } from '@c2c/platform/testing';
import { buildSubscriptionSubgraph } from '../src/index.ts';
import { addBillTo, AMEND, aPlan, CREATE_PLAN, CREATE_SUBSCRIPTION } from './support.ts';

// Billing's own facts for reconciliation. The ERP and the CRM are not running here, so every
// document stays PENDING (in flight while it is young) and the amendment waits on its ERP step.

const TOTALS = /* GraphQL */ `
  query ($from: Date, $to: Date, $inFlightMinutes: Int) {
    billingControlTotals(from: $from, to: $to, inFlightMinutes: $inFlightMinutes) {
      currency
      businessUnit
      month
      kind
      count
      total {
        amount
        currency
      }
      inFlightCount
      inFlightTotal {
        amount
        currency
      }
    }
  }
`;
const DOCUMENTS = /* GraphQL */ `
  query ($bu: String!, $month: String!, $kind: InvoiceKind!, $first: Int, $after: String, $grace: Int) {
    billingDocuments(
      currency: "USD"
      businessUnit: $bu
      month: $month
      kind: $kind
      first: $first
      after: $after
      inFlightMinutes: $grace
    ) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        number
        kind
        issuedOn
        total {
          amount
          currency
        }
        postingAcknowledgement
        inFlight
        issuedAt
      }
    }
  }
`;
const VALUES = /* GraphQL */ `
  query ($first: Int, $after: String) {
    billingContractValues(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        customer {
          id
        }
        annualValue {
          amount
          currency
        }
      }
    }
  }
`;
const STUCK = /* GraphQL */ `
  query ($olderThanMinutes: Int) {
    stuckAmendments(olderThanMinutes: $olderThanMinutes, first: 100) {
      totalCount
      nodes {
        ageSeconds
        step {
          system
          status
        }
        amendment {
          id
          status
          correlationId
        }
      }
    }
  }
`;
const BACKLOG = /* GraphQL */ `
  query ($inFlightMinutes: Int) {
    billingSyncBacklog(inFlightMinutes: $inFlightMinutes) {
      businessUnit
      pendingCount
      overdueCount
      failedCount
      oldestPendingAgeSeconds
      oldestPendingIssuedAt
    }
  }
`;

type Data = any;

describe('subscription subgraph: reconciliation reads', () => {
  let stack: TestSubgraphs;
  let url: string;
  const bu = unique('BU-RECON');
  const customers: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
  let amendmentId: string;
  const headers = { 'x-c2c-caller': 'ops-console' };
  const query = async (text: string, variables: Record<string, unknown> = {}) => {
    const result = await graphql<Data>(url, text, variables, headers);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data;
  };
  const statements = async <T>(run: () => Promise<T>) => {
    const seen: string[] = [];
    const stop = stack.database.onQuery((sql) => seen.push(sql));
    try {
      return { result: await run(), seen };
    } finally {
      stop();
    }
  };

  beforeAll(async () => {
    stack = await startTestSubgraphs([buildSubscriptionSubgraph], {
      clock: fixedClock('2026-03-10T12:00:00Z'),
    });
    url = stack.url('subscription');
    const plan = aPlan({ unitPrice: { amount: '9.95', currency: 'USD' }, minSeats: 1, maxSeats: 100 });
    expect((await query(CREATE_PLAN, { input: plan })).createPlan.userErrors).toEqual([]);
    // A and B: 3 seats from 2026-03-01 (29.85 + 19% VAT 5.67 = 35.52); C: 2 seats from 2026-02-01
    // (19.90 + 3.78 = 23.68). A then drops to 1 seat on 2026-03-10: credit note 2 × 9.95 × 22/31
    // = 14.12 + 2.68 VAT = 16.80.
    const subscribe = async (seats: number, startDate: string) => {
      const customerId = await addBillTo(stack, { country: 'DE', businessUnit: bu });
      const data = await query(CREATE_SUBSCRIPTION, {
        input: { customerId, planCode: plan.code, seats, startDate, idempotencyKey: unique('sub') },
      });
      expect(data.createSubscription.userErrors).toEqual([]);
      return { customerId, subscriptionId: data.createSubscription.subscription.id as string };
    };
    const a = await subscribe(3, '2026-03-01');
    customers.a = a.customerId;
    customers.b = (await subscribe(3, '2026-03-01')).customerId;
    customers.c = (await subscribe(2, '2026-02-01')).customerId;
    const amended = await query(AMEND, {
      input: {
        subscriptionId: a.subscriptionId,
        seats: 1,
        effectiveDate: '2026-03-10',
        expectedVersion: 1,
        idempotencyKey: unique('amend'),
      },
    });
    expect(amended.amendSubscription.userErrors).toEqual([]);
    expect(amended.amendSubscription.amendment.creditNote.total).toEqual({
      amount: '-16.80',
      currency: 'USD',
    });
    amendmentId = amended.amendSubscription.amendment.id;
  });
  afterAll(() => stack.close());

  it('reports exact control totals per currency, business unit, month and kind in one SQL statement', async () => {
    const { result, seen } = await statements(() => query(TOTALS, {}));
    const mine = result.billingControlTotals.filter((t: Data) => t.businessUnit === bu);
    const usd = (amount: string) => ({ amount, currency: 'USD' });
    expect(mine).toEqual([
      {
        currency: 'USD',
        businessUnit: bu,
        month: '2026-02',
        kind: 'INVOICE',
        count: 1,
        total: usd('23.68'),
        inFlightCount: 1,
        inFlightTotal: usd('23.68'),
      },
      {
        currency: 'USD',
        businessUnit: bu,
        month: '2026-03',
        kind: 'CREDIT_NOTE',
        count: 1,
        total: usd('-16.80'),
        inFlightCount: 1,
        inFlightTotal: usd('-16.80'),
      },
      {
        currency: 'USD',
        businessUnit: bu,
        month: '2026-03',
        kind: 'INVOICE',
        count: 2,
        total: usd('71.04'),
        inFlightCount: 2,
        inFlightTotal: usd('71.04'),
      },
    ]);
    expect(seen.filter((s) => /^\s*select/i.test(s) && s.includes('"subscription"."invoice"'))).toHaveLength(
      1,
    );

    // With no grace period nothing is in flight; the range keeps March only.
    const march = (
      await query(TOTALS, { from: '2026-03-01', to: '2026-04-01', inFlightMinutes: 0 })
    ).billingControlTotals.filter((t: Data) => t.businessUnit === bu);
    expect(
      march.map((t: Data) => [t.month, t.kind, t.count, t.inFlightCount, t.inFlightTotal.amount]),
    ).toEqual([
      ['2026-03', 'CREDIT_NOTE', 1, 0, '0.00'],
      ['2026-03', 'INVOICE', 2, 0, '0.00'],
    ]);
  });

  it('pages the documents of one bucket, with what billing heard from the ERP', async () => {
    const first = (await query(DOCUMENTS, { bu, month: '2026-03', kind: 'INVOICE', first: 1 }))
      .billingDocuments;
    expect(first.totalCount).toBe(2);
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.nodes[0]).toMatchObject({
      number: expect.stringMatching(/^INV-\d{6}$/),
      kind: 'INVOICE',
      issuedOn: '2026-03-01',
      total: { amount: '35.52', currency: 'USD' },
      postingAcknowledgement: 'PENDING',
      inFlight: true,
      issuedAt: expect.any(String),
    });
    const second = (
      await query(DOCUMENTS, {
        bu,
        month: '2026-03',
        kind: 'INVOICE',
        first: 1,
        after: first.pageInfo.endCursor,
        grace: 0,
      })
    ).billingDocuments;
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(second.nodes).toHaveLength(1);
    expect(second.nodes[0].id).not.toBe(first.nodes[0].id);
    expect(second.nodes[0].inFlight).toBe(false);
  });

  it('computes contract values as the ARR of active subscriptions, in one SQL statement per page', async () => {
    const values = new Map<string, Data>();
    let after: string | null = null;
    let pages = 0;
    let selects = 0;
    for (;;) {
      const { result, seen }: { result: Data; seen: string[] } = await statements(() =>
        query(VALUES, { first: 2, after }),
      );
      selects += seen.filter(
        (s) => /^\s*select/i.test(s) && s.includes('"subscription"."subscription"'),
      ).length;
      pages++;
      for (const node of result.billingContractValues.nodes) values.set(node.customer.id, node.annualValue);
      if (!result.billingContractValues.pageInfo.hasNextPage) break;
      after = result.billingContractValues.pageInfo.endCursor;
    }
    expect(values.get(customers.a)).toEqual({ amount: '119.40', currency: 'USD' }); // 1 × 9.95 × 12
    expect(values.get(customers.b)).toEqual({ amount: '358.20', currency: 'USD' }); // 3 × 9.95 × 12
    expect(values.get(customers.c)).toEqual({ amount: '238.80', currency: 'USD' }); // 2 × 9.95 × 12
    // Each page: the page and its count (totalCount was asked for).
    expect(selects).toBe(pages * 2);
  });

  it('lists amendments stuck in a step, with the step and the age', async () => {
    const stuck = (await query(STUCK, { olderThanMinutes: 0 })).stuckAmendments;
    const mine = stuck.nodes.find((n: Data) => n.amendment.id === amendmentId);
    expect(mine).toMatchObject({
      ageSeconds: expect.any(Number),
      step: { system: 'ERP', status: 'PENDING' },
      amendment: { status: 'INVOICED', correlationId: expect.any(String) },
    });
    expect(stuck.totalCount).toBeGreaterThanOrEqual(1);
    expect((await query(STUCK, { olderThanMinutes: 60 })).stuckAmendments).toEqual({
      totalCount: 0,
      nodes: [],
    });
  });

  it('reports the sync backlog per business unit with the oldest pending document', async () => {
    const { result, seen } = await statements(() => query(BACKLOG, { inFlightMinutes: 0 }));
    expect(result.billingSyncBacklog.find((b: Data) => b.businessUnit === bu)).toMatchObject({
      pendingCount: 4,
      overdueCount: 4,
      failedCount: 0,
      oldestPendingAgeSeconds: expect.any(Number),
      oldestPendingIssuedAt: expect.any(String),
    });
    expect(seen.filter((s) => /^\s*select/i.test(s) && s.includes('"subscription"."invoice"'))).toHaveLength(
      1,
    );
    const young = (await query(BACKLOG, { inFlightMinutes: 60 })).billingSyncBacklog;
    expect(young.find((b: Data) => b.businessUnit === bu)).toMatchObject({
      pendingCount: 4,
      overdueCount: 0,
    });
  });

  it('refuses a malformed month, a page too large and a negative grace period with coded errors', async () => {
    const codes = async (text: string, variables: Record<string, unknown>) =>
      (await graphql<Data>(url, text, variables, headers)).errors?.map((e) => e.extensions?.code);
    expect(await codes(DOCUMENTS, { bu, month: '2026-13', kind: 'INVOICE' })).toEqual(['INVALID_MONTH']);
    expect(await codes(DOCUMENTS, { bu, month: '2026-03', kind: 'INVOICE', first: 1001 })).toEqual([
      'INVALID_PAGE_SIZE',
    ]);
    expect(await codes(TOTALS, { inFlightMinutes: -1 })).toEqual(['INVALID_MINUTES']);
    expect(await codes(TOTALS, { from: '2026-04-01', to: '2026-03-01' })).toEqual(['INVALID_RANGE']);
  });
});
