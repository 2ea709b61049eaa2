import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, graphql, startTestSubgraphs, unique, type TestSubgraphs } from '@c2c/platform/testing';
import { buildSubscriptionSubgraph } from '../src/index.ts';
import { addBillTo, AMEND, aPlan, CREATE_PLAN, CREATE_SUBSCRIPTION } from './support.ts';

// The operators' view of the amendment workflow (the ops console): amendments newest first by
// status, open counts, and throughput and lag per minute. The ERP and the CRM are not running, so
// amendments wait at INVOICED until the test completes one by hand.

const AMENDMENTS = /* GraphQL */ `
  query ($status: AmendmentStatus, $first: Int, $after: String) {
    open: openAmendmentCounts {
      status
      count
    }
    amendments(status: $status, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        status
        steps {
          system
          status
        }
      }
    }
  }
`;
const ACTIVITY = /* GraphQL */ `
  query ($minutes: Int) {
    amendmentActivity(minutes: $minutes) {
      minute
      accepted
      completed
      averageLagMs
      maxLagMs
    }
  }
`;

type Data = any;

describe('subscription subgraph: the amendment monitor', () => {
  let stack: TestSubgraphs;
  let url: string;
  const ids: string[] = [];
  const headers = { 'x-c2c-caller': 'ops-console' };
  const send = (text: string, variables: Record<string, unknown> = {}) =>
    graphql<Data>(url, text, variables, headers);
  const query = async (text: string, variables: Record<string, unknown> = {}) => {
    const result = await send(text, variables);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data;
  };

  beforeAll(async () => {
    stack = await startTestSubgraphs([buildSubscriptionSubgraph], {
      clock: fixedClock('2026-03-10T12:00:00Z'),
    });
    url = stack.url('subscription');
    const plan = aPlan({ unitPrice: { amount: '9.95', currency: 'USD' }, minSeats: 1, maxSeats: 100 });
    expect((await query(CREATE_PLAN, { input: plan })).createPlan.userErrors).toEqual([]);
    for (const seats of [3, 4]) {
      const customerId = await addBillTo(stack, { country: 'DE', businessUnit: 'EMEA-MM' });
      const created = await query(CREATE_SUBSCRIPTION, {
        input: {
          customerId,
          planCode: plan.code,
          seats,
          startDate: '2026-03-01',
          idempotencyKey: unique('sub'),
        },
      });
      const amended = await query(AMEND, {
        input: {
          subscriptionId: created.createSubscription.subscription.id,
          seats: seats + 1,
          effectiveDate: '2026-03-10',
          idempotencyKey: unique('amend'),
        },
      });
      expect(amended.amendSubscription.userErrors).toEqual([]);
      ids.push(amended.amendSubscription.amendment.id);
    }
  });
  afterAll(() => stack.close());

  it('lists amendments newest first with their steps, by status, in keyset pages', async () => {
    const first = await query(AMENDMENTS, { first: 1 });
    expect(first.amendments.nodes).toEqual([
      {
        id: ids[1],
        status: 'INVOICED',
        steps: [
          { system: 'BILLING', status: 'DONE' },
          { system: 'ERP', status: 'PENDING' },
          { system: 'CRM', status: 'PENDING' },
        ],
      },
    ]);
    expect(first.amendments.pageInfo.hasNextPage).toBe(true);
    const second = await query(AMENDMENTS, { first: 1, after: first.amendments.pageInfo.endCursor });
    expect(second.amendments.nodes.map((a: Data) => a.id)).toEqual([ids[0]]);

    const invoiced = await query(AMENDMENTS, { status: 'INVOICED', first: 100 });
    expect(invoiced.amendments.nodes.map((a: Data) => a.id)).toEqual(expect.arrayContaining(ids));
    expect(invoiced.amendments.totalCount).toBe(invoiced.amendments.nodes.length);
    expect(invoiced.open).toContainEqual({ status: 'INVOICED', count: invoiced.amendments.totalCount });
    expect(invoiced.open.map((o: Data) => o.status)).not.toContain('COMPLETED');
    const completed = await query(AMENDMENTS, { status: 'COMPLETED' });
    expect(completed.amendments.nodes.map((a: Data) => a.id)).not.toContain(ids[0]);
  });

  it('reports accepted and completed amendments per minute with the time they took', async () => {
    // Complete one amendment 2.5 s after its acceptance, as the last acknowledgement would.
    await sql`update subscription.amendment set status = 'COMPLETED', updated_at = created_at + interval '2500 milliseconds'
      where id = ${ids[0]}`.execute(stack.database.db);
    const { amendmentActivity } = await query(ACTIVITY, { minutes: 5 });
    const accepted = amendmentActivity.reduce((n: number, a: Data) => n + a.accepted, 0);
    const completed = amendmentActivity.filter((a: Data) => a.completed > 0);
    expect(accepted).toBeGreaterThanOrEqual(2);
    expect(completed).toEqual([
      expect.objectContaining({ completed: 1, averageLagMs: 2500, maxLagMs: 2500 }),
    ]);
    expect(new Date(completed[0].minute).getUTCSeconds()).toBe(0);
  });

  it('refuses page sizes and windows out of range', async () => {
    const page = await send(AMENDMENTS, { first: 101 });
    expect(page.errors?.[0]?.extensions?.code).toBe('INVALID_PAGE_SIZE');
    const window = await send(ACTIVITY, { minutes: 0 });
    expect(window.errors?.[0]?.extensions?.code).toBe('INVALID_MINUTES');
  });
});
