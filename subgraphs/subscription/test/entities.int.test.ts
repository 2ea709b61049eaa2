import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, graphql, startTestSubgraphs, unique, type TestSubgraphs } from '@c2c/platform/testing';
import { buildSubscriptionSubgraph } from '../src/index.ts';
import { addBillTo, aPlan, CREATE_PLAN, CREATE_SUBSCRIPTION, RENEW } from './support.ts';

type Data = any;

const ENTITIES = /* GraphQL */ `
  query ($reps: [_Any!]!) {
    _entities(representations: $reps) {
      ... on BillingSubscription {
        id
        seats
        plan {
          code
        }
      }
      ... on Invoice {
        id
        number
        subscription {
          id
        }
      }
      ... on Plan {
        code
        name
      }
      ... on Customer {
        id
        subscriptions {
          id
          invoices(first: 2) {
            totalCount
            pageInfo {
              hasNextPage
            }
            nodes {
              id
            }
          }
        }
      }
    }
  }
`;

/** Every reference resolver costs one query per entity type, whatever the number of references. */
describe('entity references', () => {
  let stack: TestSubgraphs;
  let url: string;
  const customers: string[] = [];
  const subscriptions: string[] = [];
  const plans: string[] = [];

  const selectsFrom = (statements: string[], table: string) =>
    statements.filter(
      (s) => /^\s*select/i.test(s) && new RegExp(`from "subscription"\\."${table}"(?![a-z_])`).test(s),
    );

  async function resolve(reps: Record<string, unknown>[]) {
    const statements: string[] = [];
    const stop = stack.database.onQuery((sql) => statements.push(sql));
    const result = await graphql<Data>(url, ENTITIES, { reps });
    stop();
    expect(result.errors).toBeUndefined();
    return { entities: result.data?._entities as Data[], statements };
  }

  beforeAll(async () => {
    stack = await startTestSubgraphs([buildSubscriptionSubgraph], {
      clock: fixedClock('2026-03-10T12:00:00Z'),
    });
    url = stack.url('subscription');
    for (let i = 0; i < 3; i++) {
      plans.push((await graphql<Data>(url, CREATE_PLAN, { input: aPlan() })).data?.createPlan.plan.code);
    }
    for (let i = 0; i < 4; i++) {
      const customerId = await addBillTo(stack);
      customers.push(customerId);
      // Customer i has i subscriptions starting i months back, so invoice counts differ after the run.
      for (let k = 0; k < i; k++) {
        const input = {
          customerId,
          planCode: plans[k % plans.length],
          seats: 1,
          startDate: `2025-${String(10 + k).padStart(2, '0')}-15`,
          idempotencyKey: unique(),
        };
        subscriptions.push(
          (await graphql<Data>(url, CREATE_SUBSCRIPTION, { input })).data?.createSubscription.subscription.id,
        );
      }
    }
    await graphql(url, RENEW, { asOf: '2026-03-10', idempotencyKey: unique() });
  });
  afterAll(() => stack.close());

  it('resolves N subscription references with one subscription query', async () => {
    const { entities, statements } = await resolve(
      subscriptions.map((id) => ({ __typename: 'BillingSubscription', id })),
    );
    expect(entities.map((e) => e.id)).toEqual(subscriptions);
    expect(selectsFrom(statements, 'subscription')).toHaveLength(1);
    expect(selectsFrom(statements, 'plan')).toHaveLength(1);
  });

  it('resolves N invoice references with one invoice query', async () => {
    const invoiceIds = (
      await stack.database.db
        .withSchema('subscription')
        .selectFrom('invoice')
        .select('id')
        .orderBy('seq')
        .execute()
    ).map((row) => row.id as string);
    expect(invoiceIds.length).toBeGreaterThan(6);
    const { entities, statements } = await resolve(invoiceIds.map((id) => ({ __typename: 'Invoice', id })));
    expect(entities.map((e) => e.id)).toEqual(invoiceIds);
    expect(selectsFrom(statements, 'invoice')).toHaveLength(1);
    expect(selectsFrom(statements, 'subscription')).toHaveLength(1);
  });

  it('resolves N plan references with one plan query and unknown references to null', async () => {
    const { entities, statements } = await resolve(
      [...plans, 'NO-SUCH'].map((code) => ({ __typename: 'Plan', code })),
    );
    expect(entities.map((e) => e?.code ?? null)).toEqual([...plans, null]);
    expect(selectsFrom(statements, 'plan')).toHaveLength(1);
  });

  it("resolves N customers' subscriptions and invoice pages with one query each", async () => {
    const reps = [...customers, 'not-a-uuid'].map((id) => ({ __typename: 'Customer', id }));
    const { entities, statements } = await resolve(reps);
    expect(entities.map((e) => e.subscriptions.length)).toEqual([0, 1, 2, 3, 0]);
    // Started 2025-10-15, -11-15, -12-15 and renewed to 2026-03-10: 5, 4 and 3 invoices.
    expect(
      entities[3].subscriptions.map((s: Data) => [
        s.invoices.totalCount,
        s.invoices.nodes.length,
        s.invoices.pageInfo.hasNextPage,
      ]),
    ).toEqual([
      [5, 2, true],
      [4, 2, true],
      [3, 2, true],
    ]);
    expect(selectsFrom(statements, 'subscription')).toHaveLength(1);
    expect(selectsFrom(statements, 'invoice')).toHaveLength(1);
  });
});
