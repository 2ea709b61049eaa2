import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, startTestSubgraphs, unique, type TestSubgraphs } from '@c2c/platform/testing';
import { buildCustomerSubgraph } from '../src/index.ts';

const CREATE = /* GraphQL */ `
  mutation ($input: CreateCustomerInput!) {
    createCustomer(input: $input) {
      customer {
        id
        name
        status
        businessUnit
        country
        version
      }
      userErrors {
        code
        field
        message
      }
    }
  }
`;
const UPDATE = /* GraphQL */ `
  mutation ($input: UpdateCustomerInput!) {
    updateCustomer(input: $input) {
      customer {
        id
        name
        status
        version
      }
      userErrors {
        code
        field
        message
      }
    }
  }
`;

function aCustomer(overrides: Record<string, unknown> = {}) {
  return {
    name: unique('Acme'),
    email: 'billing@acme.example',
    country: 'DE',
    businessUnit: 'EMEA',
    idempotencyKey: unique('key'),
    ...overrides,
  };
}

describe('customer subgraph', () => {
  let stack: TestSubgraphs;
  let url: string;
  beforeAll(async () => {
    stack = await startTestSubgraphs([buildCustomerSubgraph]);
    url = stack.url('customer');
  });
  afterAll(() => stack.close());

  it('creates a customer and announces it in the outbox', async () => {
    const result = await graphql(url, CREATE, { input: aCustomer() });
    const payload = (result.data as any).createCustomer;
    expect(payload.userErrors).toEqual([]);
    expect(payload.customer).toMatchObject({
      status: 'ACTIVE',
      businessUnit: 'EMEA',
      country: 'DE',
      version: 1,
    });
    const outbox = await stack.database.db
      .withSchema('customer')
      .selectFrom('outbox')
      .select(['type', 'subject'])
      .where('subject', '=', payload.customer.id)
      .execute();
    expect(outbox).toEqual([{ type: 'customer.created', subject: payload.customer.id }]);
  });

  it('returns the stored response for a repeated key and refuses the key with another input', async () => {
    const input = aCustomer();
    const first = (await graphql(url, CREATE, { input })).data as any;
    const again = (await graphql(url, CREATE, { input })).data as any;
    expect(again.createCustomer.customer.id).toBe(first.createCustomer.customer.id);
    const count = await stack.database.db
      .withSchema('customer')
      .selectFrom('customer')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('name', '=', input.name)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
    const reused = (await graphql(url, CREATE, { input: { ...input, name: 'Other' } })).data as any;
    expect(reused.createCustomer.userErrors).toEqual([
      expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'idempotencyKey' }),
    ]);
  });

  it('rejects a stale expectedVersion with VERSION_CONFLICT and changes nothing', async () => {
    const created = ((await graphql(url, CREATE, { input: aCustomer() })).data as any).createCustomer
      .customer;
    const ok = (
      (
        await graphql(url, UPDATE, {
          input: { id: created.id, name: 'Renamed', expectedVersion: 1, idempotencyKey: unique() },
        })
      ).data as any
    ).updateCustomer;
    expect(ok.customer).toMatchObject({ name: 'Renamed', version: 2 });
    const stale = (
      (
        await graphql(url, UPDATE, {
          input: { id: created.id, name: 'Again', expectedVersion: 1, idempotencyKey: unique() },
        })
      ).data as any
    ).updateCustomer;
    expect(stale.userErrors[0].code).toBe('VERSION_CONFLICT');
    const now = (
      (
        await graphql(
          url,
          `
            query ($id: ID!) {
              customer(id: $id) {
                name
                version
              }
            }
          `,
          { id: created.id },
        )
      ).data as any
    ).customer;
    expect(now).toEqual({ name: 'Renamed', version: 2 });
  });

  it.each([
    ['a NUL in the name', { name: 'Ac\u0000me' }, 'INVALID_TEXT', 'name'],
    ['a name over 200 characters', { name: 'x'.repeat(201) }, 'TOO_LONG', 'name'],
    ['an empty business unit', { businessUnit: '   ' }, 'REQUIRED', 'businessUnit'],
    [
      'an unknown parent',
      { parentId: '00000000-0000-4000-8000-000000000000' },
      'CUSTOMER_NOT_FOUND',
      'parentId',
    ],
    ['a malformed parent id', { parentId: 'nope' }, 'CUSTOMER_NOT_FOUND', 'parentId'],
    ['an empty idempotency key', { idempotencyKey: '' }, 'INVALID_IDEMPOTENCY_KEY', 'idempotencyKey'],
    ['a non-ASCII idempotency key', { idempotencyKey: 'clé' }, 'INVALID_IDEMPOTENCY_KEY', 'idempotencyKey'],
  ])('rejects %s with a userError and writes nothing', async (_label, overrides, code, field) => {
    const count = async () =>
      Number(
        (
          await stack.database.db
            .withSchema('customer')
            .selectFrom('outbox')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const payload = ((await graphql(url, CREATE, { input: aCustomer(overrides) })).data as any)
      .createCustomer;
    expect(payload).toEqual({ customer: null, userErrors: [expect.objectContaining({ code, field })] });
    expect(await count()).toBe(before);
  });

  it.each([
    ['an invalid e-mail', { email: 'not-an-email' }],
    ['an invalid country', { country: 'XX1' }],
  ])('rejects %s at validation with a GraphQL error', async (_label, overrides) => {
    const result = await graphql(url, CREATE, { input: aCustomer(overrides) });
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('pages customers of a business unit by name and rejects page sizes outside 1–100', async () => {
    const unit = unique('BU');
    for (const name of ['Charlie', 'Alpha', 'Bravo']) {
      await graphql(url, CREATE, { input: aCustomer({ name: `${name} ${unit}`, businessUnit: unit }) });
    }
    const PAGE = `query ($bu: String, $first: Int, $after: String) { customers(businessUnit: $bu, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { name } } }`;
    const page1 = ((await graphql(url, PAGE, { bu: unit, first: 2 })).data as any).customers;
    expect(page1.totalCount).toBe(3);
    expect(page1.nodes.map((n: any) => n.name)).toEqual([`Alpha ${unit}`, `Bravo ${unit}`]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (
      (await graphql(url, PAGE, { bu: unit, first: 2, after: page1.pageInfo.endCursor })).data as any
    ).customers;
    expect(page2.nodes.map((n: any) => n.name)).toEqual([`Charlie ${unit}`]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    for (const first of [0, 101, -1]) {
      const bad = await graphql(url, PAGE, { bu: unit, first });
      expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_PAGE_SIZE');
    }
    const badCursor = await graphql(url, PAGE, { bu: unit, first: 2, after: 'garbage' });
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('INVALID_CURSOR');
  });

  it('resolves N entity references with one customer query', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(((await graphql(url, CREATE, { input: aCustomer() })).data as any).createCustomer.customer.id);
    }
    const statements: string[] = [];
    const stop = stack.database.onQuery((sql) => statements.push(sql));
    const result = await graphql(
      url,
      `
        query ($reps: [_Any!]!) {
          _entities(representations: $reps) {
            ... on Customer {
              id
              name
            }
          }
        }
      `,
      { reps: ids.map((id) => ({ __typename: 'Customer', id })) },
    );
    stop();
    expect((result.data as any)._entities.map((e: any) => e.id)).toEqual(ids);
    // Only reads of the customer table count: the relay and consumers of the same schema (its outbox,
    // inbox) may run at any moment in the background.
    expect(
      statements.filter((s) => /from "customer"\."customer"\s/.test(s) && /select/i.test(s)),
    ).toHaveLength(1);
  });
});
