import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '@c2c/platform/events';
import { graphql, startTestSubgraphs, unique, waitFor, type TestSubgraphs } from '@c2c/platform/testing';
import { buildCustomerSubgraph } from '../src/index.ts';

// The CRM's own facts for reconciliation: the contract value it shows per customer.

const CREATE = /* GraphQL */ `
  mutation ($input: CreateCustomerInput!) {
    createCustomer(input: $input) {
      customer {
        id
      }
    }
  }
`;
const VALUES = /* GraphQL */ `
  query ($first: Int, $after: String) {
    crmContractValues(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        customer {
          id
          name
        }
        annualValue {
          amount
          currency
        }
      }
    }
  }
`;

function subscriptionCreated(customerId: string, seats: number, billingPeriod: string): CloudEvent {
  const id = randomUUID();
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'subscription',
    type: 'subscription.created',
    subject: id,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: {
      id,
      customerId,
      planCode: 'PRO',
      billingPeriod,
      status: 'ACTIVE',
      seats,
      unitPriceMinor: 995,
      currency: 'USD',
      startDate: '2026-03-01',
      currentPeriod: { start: '2026-03-01', end: '2026-04-01' },
      version: 1,
    },
    correlationid: randomUUID(),
    aggregateversion: 1,
  };
}

type Data = any;

describe('customer subgraph: contract values for reconciliation', () => {
  let stack: TestSubgraphs;
  let url: string;
  const ids: string[] = [];

  beforeAll(async () => {
    stack = await startTestSubgraphs([buildCustomerSubgraph]);
    url = stack.url('customer');
    for (let i = 0; i < 3; i++) {
      const result = await graphql<Data>(url, CREATE, {
        input: {
          name: unique('Recon'),
          email: 'ap@recon.example',
          country: 'DE',
          businessUnit: 'EMEA',
          idempotencyKey: unique('key'),
        },
      });
      ids.push(result.data.createCustomer.customer.id);
    }
    // Two customers get a contract (3 seats monthly, 2 seats yearly); the third has none.
    await stack.transport.publish([
      subscriptionCreated(ids[0]!, 3, 'MONTH'),
      subscriptionCreated(ids[1]!, 2, 'YEAR'),
    ]);
    await waitFor(async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from customer.customer where id in (${ids[0]!}, ${ids[1]!}) and contract_value_minor is not null`.execute(
        stack.database.db,
      );
      return rows[0]?.n === 2;
    });
  });
  afterAll(() => stack.close());

  it('pages every contract value by customer id, one SQL statement per page (and one per count)', async () => {
    const seen: string[] = [];
    const stop = stack.database.onQuery((s) => seen.push(s));
    const values = new Map<string, Data>();
    let after: string | null = null;
    let pages = 0;
    let totalCount = 0;
    try {
      for (;;) {
        const result: Data = await graphql<Data>(url, VALUES, { first: 1, after });
        const page = result.data.crmContractValues;
        totalCount = page.totalCount;
        pages++;
        for (const node of page.nodes) values.set(node.customer.id, node);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
    } finally {
      stop();
    }
    expect(values.get(ids[0]!)).toMatchObject({
      customer: { name: expect.stringContaining('Recon') },
      annualValue: { amount: '358.20', currency: 'USD' }, // 3 × 9.95 × 12
    });
    expect(values.get(ids[1]!)?.annualValue).toEqual({ amount: '19.90', currency: 'USD' }); // 2 × 9.95 × 1
    expect(values.has(ids[2]!)).toBe(false);
    expect(totalCount).toBe(values.size);
    // The customer's name comes from the row of the page (primed loader), not from another query.
    expect(seen.filter((s) => /^\s*select/i.test(s) && s.includes('"customer"."customer"'))).toHaveLength(
      pages * 2,
    );
  });
});
