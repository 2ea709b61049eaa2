import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMinor } from '@c2c/platform/core';
import type { SubgraphDeps } from '@c2c/platform/subgraph';
import { graphql, startTestSubgraphs, unique, type TestSubgraphs } from '@c2c/platform/testing';
import { CustomerService } from '../../src/domain/customer.service.ts';
import { buildCustomerSubgraph } from '../../src/index.ts';
import { crmFromEnv } from '../../src/ports/crm-config.ts';
import { crmConformance, type AccountInCrm } from './crm.conformance.ts';

// The built-in CRM: the customer subgraph's own tables are the system of record.
const asAccount = (row: { id: string; name: string; parent_id: string | null; version: number }) =>
  ({
    id: row.id,
    name: row.name,
    parentId: row.parent_id,
    version: Number(row.version),
  }) satisfies AccountInCrm;

crmConformance('builtin', () => ({
  env: { CRM_ADAPTER: 'builtin' },
  accountsNamed: async (h, name) =>
    (
      await h
        .customer()
        .selectFrom('customer')
        .select(['id', 'name', 'parent_id', 'version'])
        .where('name', '=', name)
        .execute()
    ).map(asAccount),
  account: async (h, id) => {
    const row = await h
      .customer()
      .selectFrom('customer')
      .select(['id', 'name', 'parent_id', 'version'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? asAccount(row) : null;
  },
  contractValue: async (h, customerId) => {
    const row = await h
      .customer()
      .selectFrom('customer')
      .select(['contract_value_minor', 'contract_currency'])
      .where('id', '=', customerId)
      .executeTakeFirstOrThrow();
    if (row.contract_value_minor === null || row.contract_currency === null) return null;
    const currency = String(row.contract_currency);
    return { amount: formatMinor(Number(row.contract_value_minor), currency), currency };
  },
  opportunities: async (h, customerId) =>
    (
      await h
        .customer()
        .selectFrom('opportunity')
        .select(['id', 'name', 'stage', 'seats'])
        .where('customer_id', '=', customerId)
        .orderBy('created_at')
        .execute()
    ).map((row) => ({ id: row.id, name: row.name, stage: row.stage, seats: Number(row.seats) })),
}));

describe('the CRM port at start and its change feed', () => {
  let stack: TestSubgraphs;
  let deps: SubgraphDeps;
  beforeAll(async () => {
    stack = await startTestSubgraphs([
      (d) => {
        deps = d;
        return buildCustomerSubgraph(d);
      },
    ]);
  });
  afterAll(() => stack?.close());

  it('refuses an unknown CRM_ADAPTER when the subgraph is built, naming the valid adapters', () => {
    expect(() => buildCustomerSubgraph({ ...deps, env: { CRM_ADAPTER: 'salesforce' } })).toThrow(
      /invalid configuration:\n {2}CRM_ADAPTER: .*"builtin"/,
    );
    expect(crmFromEnv({}, deps.db).system).toBe('builtin');
  });

  it('announces an account changed in the CRM itself as customer.updated, and ignores one it does not hold', async () => {
    const created = await graphql<any>(
      stack.url('customer'),
      `
        mutation ($input: CreateCustomerInput!) {
          createCustomer(input: $input) {
            customer {
              id
            }
          }
        }
      `,
      {
        input: {
          name: unique('Acme'),
          email: 'ap@acme.example',
          country: 'FR',
          businessUnit: 'EMEA',
          idempotencyKey: unique('key'),
        },
      },
    );
    const id = created.data.createCustomer.customer.id as string;
    const db = stack.database.db.withSchema('customer');
    // A user edits the account in the CRM itself (for the built-in CRM: its table).
    await db
      .updateTable('customer')
      .set((eb) => ({ name: 'Acme (renamed in the CRM)', version: eb('version', '+', 1) }))
      .where('id', '=', id)
      .execute();
    const service = new CustomerService(deps, crmFromEnv({}, deps.db));
    expect(await service.accountChanged(id, deps.log)).toBe('announced');
    const updated = await db
      .selectFrom('outbox')
      .select(['data', 'aggregate_version'])
      .where('subject', '=', id)
      .where('type', '=', 'customer.updated')
      .execute();
    expect(updated).toEqual([
      {
        data: expect.objectContaining({ id, name: 'Acme (renamed in the CRM)', version: 2 }),
        aggregate_version: 2,
      },
    ]);
    const unknown = randomUUID();
    expect(await service.accountChanged(unknown, deps.log)).toBe('unknown');
    expect(await db.selectFrom('outbox').select('id').where('subject', '=', unknown).execute()).toEqual([]);
  });
});
