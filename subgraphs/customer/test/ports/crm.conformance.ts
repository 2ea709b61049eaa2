import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyDb } from '@c2c/platform/db';
import type { CloudEvent } from '@c2c/platform/events';
import { graphql, startTestSubgraphs, unique, waitFor, type TestSubgraphs } from '@c2c/platform/testing';
import { buildCustomerSubgraph } from '../../src/index.ts';
import { crmFromEnv } from '../../src/ports/crm-config.ts';

/** The customer subgraph alone over a test database, with the CRM adapter `env` asks for. */
export interface CrmHarness {
  stack: TestSubgraphs;
  url: string;
  /** The customer subgraph's own schema (its outbox, and for the built-in CRM its tables). */
  customer(): AnyDb;
  /** Publishes events as billing's relay would and waits until the CRM's consumers have handled them. */
  publish(...events: CloudEvent[]): Promise<void>;
  /** Events of `type` about `subject` in the customer subgraph's outbox. */
  outboxCount(type: string, subject: string): Promise<number>;
  /**
   * Forgets our record of a request (its idempotency key): as after retention pruned it, or when
   * our commit was lost after the CRM's write. A retry then reaches the CRM again.
   */
  forgetRequest(key: string): Promise<void>;
}

/** An account as the system of record itself holds it, read from it directly. */
export interface AccountInCrm {
  id: string;
  name: string;
  parentId: string | null;
  version: number;
}

/** An opportunity as the system of record holds it. */
export interface OpportunityInCrm {
  id: string;
  name: string;
  stage: string;
  seats: number;
}

/** One adapter under test: its environment and a way to look into its system of record. */
export interface CrmUnderTest {
  env: Record<string, string>;
  /** The accounts the CRM holds with this name (a retry must never make a second). */
  accountsNamed(h: CrmHarness, name: string): Promise<AccountInCrm[]>;
  /** The account the CRM holds under our id, or null. */
  account(h: CrmHarness, id: string): Promise<AccountInCrm | null>;
  /** The account's contract value as the CRM shows it ("1222.35", currency), or null. */
  contractValue(h: CrmHarness, customerId: string): Promise<{ amount: string; currency: string } | null>;
  /** The opportunities the CRM holds on an account. */
  opportunities(h: CrmHarness, customerId: string): Promise<OpportunityInCrm[]>;
}

const ERRORS = 'userErrors { code field message }';
const CREATE = `mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id name version parent { id } } ${ERRORS} } }`;
const UPDATE = `mutation ($input: UpdateCustomerInput!) { updateCustomer(input: $input) { customer { id name version } ${ERRORS} } }`;
const CREATE_OPPORTUNITY = `mutation ($input: CreateOpportunityInput!) { createOpportunity(input: $input) { opportunity { id stage version } ${ERRORS} } }`;
const WIN = `mutation ($input: WinOpportunityInput!) { winOpportunity(input: $input) { opportunity { id stage } order { id } ${ERRORS} } }`;
const CUSTOMER = `query ($id: ID!) { customer(id: $id) { id name version contractValue { amount currency } children { id } openOpportunities { id } } }`;

async function startCustomer(env: Record<string, string>): Promise<CrmHarness> {
  const stack = await startTestSubgraphs([buildCustomerSubgraph], {
    env,
    retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
  });
  const customer = () => stack.database.db.withSchema('customer');
  const drained = () =>
    waitFor(
      async () => {
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from bus.delivery where consumer like 'customer.%' and state = 'pending'`.execute(
          stack.database.db,
        );
        return rows[0]?.n === 0;
      },
      10_000,
      'the CRM consumers to drain',
    );
  return {
    stack,
    url: stack.url('customer'),
    customer,
    publish: async (...events) => {
      await stack.transport.publish(events);
      await drained();
    },
    forgetRequest: async (key) => {
      await customer().deleteFrom('idempotency_key').where('key', '=', key).execute();
    },
    outboxCount: async (type, subject) =>
      Number(
        (
          await customer()
            .selectFrom('outbox')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('type', '=', type)
            .where('subject', '=', subject)
            .executeTakeFirstOrThrow()
        ).n,
      ),
  };
}

function subscriptionEvent(type: string, data: Record<string, unknown>): CloudEvent<Record<string, unknown>> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'subscription',
    type,
    subject: String(data.id),
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
    correlationid: randomUUID(),
    aggregateversion: Number(data.version),
  };
}

const aSubscription = (customerId: string, overrides: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  customerId,
  planCode: 'PRO',
  billingPeriod: 'MONTH',
  status: 'ACTIVE',
  seats: 3,
  unitPriceMinor: 995,
  currency: 'USD',
  startDate: '2026-03-01',
  currentPeriod: { start: '2026-03-01', end: '2026-04-01' },
  version: 1,
  ...overrides,
});

/**
 * What every CRM adapter must do (docs/adapters.md), through the customer subgraph's GraphQL API
 * and events, checked by looking into the system of record itself: write each account and
 * opportunity once by our id however often the request comes, keep the hierarchy, refuse what
 * cannot be written with our codes and write nothing, and hold the contract value written back from
 * billing exact to the cent, whatever order and however often billing's events arrive.
 */
export function crmConformance(name: string, make: () => CrmUnderTest | null): void {
  const crm = make();
  describe.skipIf(crm === null)(`CrmPort conformance: ${name}`, () => {
    let h: CrmHarness;
    beforeAll(async () => {
      h = await startCustomer(crm!.env);
    }, 60_000);
    afterAll(() => h?.stack.close());

    const anAccount = (overrides: Record<string, unknown> = {}) => ({
      name: unique('Acme'),
      email: 'billing@acme.example',
      country: 'DE',
      businessUnit: 'EMEA',
      idempotencyKey: unique('key'),
      ...overrides,
    });
    const create = async (input: Record<string, unknown>) =>
      ((await graphql<any>(h.url, CREATE, { input })).data as any).createCustomer;

    it('creates an account once by our id, however often the request is repeated', async () => {
      const input = anAccount();
      const first = await create(input);
      const again = await create(input);
      expect(first.userErrors).toEqual([]);
      expect(again).toEqual(first);
      const held = await crm!.accountsNamed(h, input.name);
      expect(held).toEqual([{ id: first.customer.id, name: input.name, parentId: null, version: 1 }]);
      expect(await crm!.account(h, first.customer.id)).toEqual(held[0]);
      expect(await h.outboxCount('customer.created', first.customer.id)).toBe(1);
      // Our record of the request is gone: the retry carries the same id and finds the earlier write.
      await h.forgetRequest(input.idempotencyKey);
      expect((await create(input)).customer.id).toBe(first.customer.id);
      expect(await crm!.accountsNamed(h, input.name)).toEqual(held);
      // Announced again only when the CRM is another system (our announcing commit may have been lost).
      const external = crmFromEnv(crm!.env, h.stack.database.db).external;
      expect(await h.outboxCount('customer.created', first.customer.id)).toBe(external ? 2 : 1);
    });

    it('keeps the hierarchy: a child under its parent; an unknown parent is refused and nothing is written', async () => {
      const parent = (await create(anAccount())).customer;
      const childInput = anAccount({ parentId: parent.id });
      const child = await create(childInput);
      expect(child.userErrors).toEqual([]);
      expect(child.customer.parent).toEqual({ id: parent.id });
      expect(await crm!.account(h, child.customer.id)).toMatchObject({ parentId: parent.id });
      const read = ((await graphql<any>(h.url, CUSTOMER, { id: parent.id })).data as any).customer;
      expect(read.children).toEqual([{ id: child.customer.id }]);

      const orphan = anAccount({ parentId: randomUUID() });
      const refused = await create(orphan);
      expect(refused).toEqual({
        customer: null,
        userErrors: [expect.objectContaining({ code: 'CUSTOMER_NOT_FOUND', field: 'parentId' })],
      });
      expect(await crm!.accountsNamed(h, orphan.name)).toEqual([]);
    });

    it('refuses an update at a stale version with VERSION_CONFLICT and writes nothing', async () => {
      const account = (await create(anAccount())).customer;
      const update = async (name: string, expectedVersion: number) =>
        (
          (
            await graphql<any>(h.url, UPDATE, {
              input: { id: account.id, name, expectedVersion, idempotencyKey: unique('key') },
            })
          ).data as any
        ).updateCustomer;
      const renamed = `${account.name} GmbH`;
      expect((await update(renamed, 1)).customer).toEqual({ id: account.id, name: renamed, version: 2 });
      const stale = await update(`${account.name} AG`, 1);
      expect(stale).toEqual({
        customer: null,
        userErrors: [expect.objectContaining({ code: 'VERSION_CONFLICT', field: 'expectedVersion' })],
      });
      expect(await crm!.account(h, account.id)).toEqual({
        id: account.id,
        name: renamed,
        parentId: null,
        version: 2,
      });
      expect(await h.outboxCount('customer.updated', account.id)).toBe(1);
    });

    it("writes back the contract value from billing's subscriptions, exact to the cent", async () => {
      const account = (await create(anAccount())).customer;
      // 3 seats × 9.95 a month × 12 = 358.20; 7 seats × 123.45 a year = 864.15.
      const monthly = aSubscription(account.id);
      const yearly = aSubscription(account.id, { billingPeriod: 'YEAR', seats: 7, unitPriceMinor: 12_345 });
      await h.publish(
        subscriptionEvent('subscription.created', monthly),
        subscriptionEvent('subscription.created', yearly),
      );
      expect(await crm!.contractValue(h, account.id)).toEqual({ amount: '1222.35', currency: 'USD' });
      // Cancelling one leaves the other's value.
      await h.publish(
        subscriptionEvent('subscription.cancelled', { ...yearly, status: 'CANCELLED', version: 2 }),
      );
      expect(await crm!.contractValue(h, account.id)).toEqual({ amount: '358.20', currency: 'USD' });
      const read = ((await graphql<any>(h.url, CUSTOMER, { id: account.id })).data as any).customer;
      expect(read.contractValue).toEqual({ amount: '358.20', currency: 'USD' });
    });

    it('changes nothing for a redelivered or a stale subscription event', async () => {
      const account = (await create(anAccount())).customer;
      const subscription = aSubscription(account.id, { seats: 10, version: 3 });
      const current = subscriptionEvent('subscription.amended', subscription);
      await h.publish(current);
      expect(await crm!.contractValue(h, account.id)).toEqual({ amount: '1194.00', currency: 'USD' });
      await h.publish(current); // the same event again
      await h.publish({ ...current, id: randomUUID() }); // billing's relay sent it again under a new id
      await h.publish(subscriptionEvent('subscription.amended', { ...subscription, seats: 2, version: 2 }));
      await h.publish(
        subscriptionEvent('subscription.cancelled', { ...subscription, status: 'CANCELLED', version: 1 }),
      );
      expect(await crm!.contractValue(h, account.id)).toEqual({ amount: '1194.00', currency: 'USD' });
      // Each delivery with a new id is acknowledged (contract.synced); the one redelivered is not handled twice.
      expect(await h.outboxCount('contract.synced', subscription.id)).toBe(4);
    });

    it('creates and wins an opportunity once, however often either request is repeated', async () => {
      const account = (await create(anAccount())).customer;
      const input = {
        customerId: account.id,
        name: unique('Expansion'),
        planCode: 'PRO',
        seats: 12,
        startDate: '2026-04-01',
        idempotencyKey: unique('key'),
      };
      const createIt = async () =>
        ((await graphql<any>(h.url, CREATE_OPPORTUNITY, { input })).data as any).createOpportunity;
      const first = await createIt();
      expect(first.userErrors).toEqual([]);
      expect(await createIt()).toEqual(first);
      const id = first.opportunity.id;
      await h.forgetRequest(input.idempotencyKey);
      expect((await createIt()).opportunity.id).toBe(id);
      expect(await crm!.opportunities(h, account.id)).toEqual([
        { id, name: input.name, stage: 'OPEN', seats: 12 },
      ]);

      const win = async (idempotencyKey: string) =>
        (
          (
            await graphql<any>(h.url, WIN, {
              input: { opportunityId: id, expectedVersion: 1, idempotencyKey },
            })
          ).data as any
        ).winOpportunity;
      const key = unique('key');
      const won = await win(key);
      expect(won.userErrors).toEqual([]);
      expect(won.opportunity).toEqual({ id, stage: 'WON' });
      expect(await win(key)).toEqual(won);
      // Won again under another key: the same one order, no second opportunity.won.
      expect((await win(unique('key'))).order).toEqual(won.order);
      expect(await crm!.opportunities(h, account.id)).toEqual([
        { id, name: input.name, stage: 'WON', seats: 12 },
      ]);
      expect(await h.outboxCount('opportunity.won', id)).toBe(1);

      const unknown = (
        (
          await graphql<any>(h.url, CREATE_OPPORTUNITY, {
            input: { ...input, customerId: randomUUID(), idempotencyKey: unique('key') },
          })
        ).data as any
      ).createOpportunity;
      expect(unknown).toEqual({
        opportunity: null,
        userErrors: [expect.objectContaining({ code: 'CUSTOMER_NOT_FOUND', field: 'customerId' })],
      });
    });
  });
}
