import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixedClock, graphql, unique, waitFor } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
import type { Stack } from '@c2c/apps/stack';
import type { ReconciliationReport } from '../../cli/commands/reconcile.ts';
import { startTestStack } from '../support/stack.ts';

// Opportunity to order, through the gateway over HTTP: a sales user wins an opportunity in the
// CRM; billing checks the deal and opens the subscription; the ERP posts its first invoice; the
// CRM records the contract. The sales operations are the registered client operations, sent
// unchanged with a `sales` token.

let stack: Stack;
let salesToken: string;
const clock = fixedClock('2026-03-10T12:00:00Z');
const RETRY = { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 200 };

async function send<T = any>(
  name: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<T> {
  const result = await graphql(stack.gatewayUrl, operation(name), variables, headers);
  if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}
const asSales = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${salesToken}`, ...extra });

/** Waits until billing's bill-to replica holds the customer at (at least) this version. */
const billingKnows = (customerId: string, version = 1) =>
  waitFor(
    async () =>
      (await stack.database.db
        .withSchema('subscription')
        .selectFrom('bill_to_account')
        .select('version')
        .where('id', '=', customerId)
        .where('version', '>=', version)
        .executeTakeFirst()) !== undefined,
    15_000,
    `billing to know customer ${customerId} at version ${version}`,
  );

async function aCustomer(overrides: Record<string, unknown> = {}): Promise<string> {
  const data = await send('admin.CreateCustomer', {
    input: {
      name: unique('Fabrikam'),
      email: 'ap@fabrikam.example',
      country: 'DE',
      businessUnit: 'EMEA-MM',
      idempotencyKey: unique('cust'),
      ...overrides,
    },
  });
  expect(data.createCustomer.userErrors).toEqual([]);
  return data.createCustomer.customer.id;
}

async function aPlan(overrides: Record<string, unknown> = {}): Promise<string> {
  const code = unique('TEAM')
    .toUpperCase()
    .replace(/[^A-Z0-9-]/g, '-')
    .slice(0, 60);
  const data = await send('admin.CreatePlan', {
    input: {
      code,
      name: 'Team',
      billingPeriod: 'MONTH',
      unitPrice: { amount: '9.95', currency: 'USD' },
      idempotencyKey: unique('plan'),
      ...overrides,
    },
  });
  expect(data.createPlan.userErrors).toEqual([]);
  return code;
}

async function anOpportunity(customerId: string, planCode: string, seats = 5, startDate = '2026-03-01') {
  const data = await send(
    'sales.CreateOpportunity',
    {
      input: { customerId, name: unique('Deal'), planCode, seats, startDate, idempotencyKey: unique('opp') },
    },
    asSales(),
  );
  expect(data.createOpportunity.userErrors).toEqual([]);
  return data.createOpportunity.opportunity;
}

async function win(opportunityId: string, extra: Record<string, unknown> = {}, headers = asSales()) {
  const data = await send(
    'sales.WinOpportunity',
    { input: { opportunityId, idempotencyKey: unique('win'), ...extra } },
    headers,
  );
  return data.winOpportunity;
}

const orderStatus = async (id: string) => (await send('sales.OrderStatus', { id }, asSales())).order;
const untilOrder = (id: string, status: string) =>
  waitFor(
    async () => {
      const order = await orderStatus(id);
      return order.status === status ? order : undefined;
    },
    20_000,
    `order ${id} to be ${status}`,
  );

/** What billing holds for a customer: its subscriptions and invoices (nothing, for a rejected order). */
async function billingRecords(customerId: string) {
  const db = stack.database.db.withSchema('subscription');
  const subscriptions = await db
    .selectFrom('subscription')
    .select(['id', 'plan_code', 'seats', 'start_date'])
    .where('customer_id', '=', customerId)
    .execute();
  const invoices = await db
    .selectFrom('invoice')
    .select('id')
    .where('customer_id', '=', customerId)
    .execute();
  return { subscriptions, invoices: invoices.length };
}

beforeAll(async () => {
  stack = await startTestStack({ clock, retry: RETRY });
  salesToken = await stack.token('sales');
});
afterAll(() => stack?.stop());

describe('opportunity to order through the gateway', () => {
  it('wins an opportunity and reaches COMPLETED: the subscription, its posted first invoice and the CRM contract value', async () => {
    const customerId = await aCustomer();
    const planCode = await aPlan();
    await billingKnows(customerId);

    const opportunity = await anOpportunity(customerId, planCode, 5);
    // expectedValue: 5 seats × 9.95 USD for one month, priced by billing through the supergraph.
    expect(opportunity).toMatchObject({
      stage: 'OPEN',
      version: 1,
      customer: { id: customerId },
      planCode,
      seats: 5,
      startDate: '2026-03-01',
      expectedValue: { amount: '49.75', currency: 'USD' },
    });

    const correlationId = `sales-${randomUUID()}`;
    const key = unique('win');
    const won = await win(
      opportunity.id,
      { expectedVersion: 1, idempotencyKey: key },
      asSales({ 'x-correlation-id': correlationId }),
    );
    expect(won.userErrors).toEqual([]);
    expect(won.opportunity).toEqual({ id: opportunity.id, stage: 'WON', version: 2 });
    expect(won.order.correlationId).toBe(correlationId);
    const orderId = won.order.id;

    const completed = await untilOrder(orderId, 'COMPLETED');
    expect(completed.checks).toEqual([
      { name: 'ACCOUNT_HIERARCHY', status: 'PASSED', message: expect.any(String) },
      { name: 'PRICING', status: 'PASSED', message: expect.any(String) },
      { name: 'TAX_CONTEXT', status: 'PASSED', message: expect.any(String) },
      { name: 'ELIGIBILITY', status: 'PASSED', message: expect.any(String) },
    ]);
    expect(completed.steps).toEqual([
      { system: 'BILLING', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
      { system: 'ERP', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
      { system: 'CRM', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
    ]);
    // The first invoice: 5 × 9.95 = 49.75, German VAT 19 % = 9.4525 → 9.45; posted by the ERP.
    expect(completed).toMatchObject({
      id: orderId,
      correlationId,
      opportunity: { id: opportunity.id, stage: 'WON' },
      subscription: {
        status: 'ACTIVE',
        seats: 5,
        invoices: { nodes: [{ total: { amount: '59.20', currency: 'USD' }, posting: { status: 'POSTED' } }] },
      },
    });

    // The CRM's contract value: 5 seats × 9.95 × 12 months.
    const view = (await send('portal.CustomerToCash', { customerId })).customer;
    expect(view.contractValue).toEqual({ amount: '597.00', currency: 'USD' });
    expect(view.subscriptions).toHaveLength(1);
    expect(view.subscriptions[0]).toMatchObject({
      id: completed.subscription.id,
      startDate: '2026-03-01',
      plan: { code: planCode },
    });

    // Winning again — the same key, or a new one — returns the one order; nothing new is created.
    const again = await win(opportunity.id, { expectedVersion: 1, idempotencyKey: key });
    expect(again.order.id).toBe(orderId);
    const anotherKey = await win(opportunity.id);
    expect(anotherKey.userErrors).toEqual([]);
    expect(anotherKey.order.id).toBe(orderId);
    expect((await billingRecords(customerId)).subscriptions).toHaveLength(1);

    // The request's correlation id is on every event of the order, in all three systems.
    const eventsOf = async (schema: string) =>
      (
        await stack.database.db
          .withSchema(schema)
          .selectFrom('outbox')
          .select('type')
          .where('correlation_id', '=', correlationId)
          .orderBy('seq')
          .execute()
      ).map((row) => row.type);
    expect(await eventsOf('customer')).toEqual(['opportunity.won', 'contract.synced']);
    expect(await eventsOf('subscription')).toEqual([
      'subscription.created',
      'invoice.issued',
      'order.subscribed',
    ]);
    expect(await eventsOf('finance')).toEqual(['invoice.posted']);

    // The ops console lists it next to the amendments (ops.Orders, a finance token).
    const listed = await send(
      'ops.Orders',
      { status: 'COMPLETED', first: 50 },
      { authorization: `Bearer ${await stack.token('finance')}` },
    );
    expect(listed.orders.nodes.find((o: any) => o.id === orderId)).toMatchObject({
      status: 'COMPLETED',
      correlationId,
      opportunity: { id: opportunity.id, planCode, seats: 5, customer: { id: customerId } },
      steps: [{ status: 'DONE' }, { status: 'DONE' }, { status: 'DONE' }],
    });
    expect(listed.orders.nodes.every((o: any) => o.status === 'COMPLETED')).toBe(true);
  });

  describe('each check rejects the order with every outcome, and nothing is created', () => {
    async function rejected(customerId: string, planCode: string, seats = 5, startDate = '2026-03-01') {
      const opportunity = await anOpportunity(customerId, planCode, seats, startDate);
      const won = await win(opportunity.id);
      expect(won.userErrors).toEqual([]);
      const order = await untilOrder(won.order.id, 'REJECTED');
      expect(order.steps).toEqual([
        { system: 'BILLING', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
        { system: 'ERP', status: 'SKIPPED', attempts: 0, lastError: null, completedAt: null },
        { system: 'CRM', status: 'SKIPPED', attempts: 0, lastError: null, completedAt: null },
      ]);
      expect(order.subscription).toBeNull();
      // Nothing was created: the deal is OPEN again, one version further.
      expect(order.opportunity).toEqual({ id: opportunity.id, stage: 'OPEN' });
      expect(order.checks.map((c: any) => c.name)).toEqual([
        'ACCOUNT_HIERARCHY',
        'PRICING',
        'TAX_CONTEXT',
        'ELIGIBILITY',
      ]);
      return order;
    }
    const failedChecks = (order: any) =>
      order.checks.filter((c: any) => c.status === 'FAILED').map((c: any) => [c.name, c.message]);

    it('ACCOUNT_HIERARCHY: the bill-to parent is suspended', async () => {
      const parentId = await aCustomer();
      const customerId = await aCustomer({ parentId });
      const planCode = await aPlan();
      const suspended = await send('admin.UpdateCustomer', {
        input: { id: parentId, status: 'SUSPENDED', idempotencyKey: unique('upd') },
      });
      expect(suspended.updateCustomer.userErrors).toEqual([]);
      await billingKnows(customerId);
      await billingKnows(parentId, 2);
      const order = await rejected(customerId, planCode);
      expect(failedChecks(order)).toEqual([
        ['ACCOUNT_HIERARCHY', expect.stringContaining(`bill-to parent ${parentId} is SUSPENDED`)],
      ]);
      expect(await billingRecords(customerId)).toEqual({ subscriptions: [], invoices: 0 });
    });

    it('PRICING: seats outside the plan bounds', async () => {
      const customerId = await aCustomer();
      const planCode = await aPlan({ minSeats: 1, maxSeats: 10 });
      await billingKnows(customerId);
      const order = await rejected(customerId, planCode, 11);
      expect(failedChecks(order)).toEqual([['PRICING', expect.stringContaining('11 seats are outside')]]);
      expect(await billingRecords(customerId)).toEqual({ subscriptions: [], invoices: 0 });

      // The rep fixes the seats on the reopened opportunity and wins it again: a new order completes.
      const fixed = await graphql<any>(
        stack.gatewayUrl,
        `
          mutation Fix($input: UpdateOpportunityInput!) {
            updateOpportunity(input: $input) {
              opportunity {
                seats
                version
                stage
              }
              userErrors {
                code
              }
            }
          }
        `,
        {
          input: {
            opportunityId: order.opportunity.id,
            seats: 10,
            expectedVersion: 3,
            idempotencyKey: unique('upd'),
          },
        },
        asSales(),
      );
      expect(fixed.data?.updateOpportunity).toEqual({
        opportunity: { seats: 10, version: 4, stage: 'OPEN' },
        userErrors: [],
      });
      const again = await win(order.opportunity.id, { expectedVersion: 4 });
      expect(again.userErrors).toEqual([]);
      expect(again.order.id).not.toBe(order.id);
      const completed = await untilOrder(again.order.id, 'COMPLETED');
      expect(completed.subscription.seats).toBe(10);
      expect((await billingRecords(customerId)).subscriptions).toHaveLength(1);
    });

    it('PRICING: an unknown plan has no expected value and is rejected', async () => {
      const customerId = await aCustomer();
      await billingKnows(customerId);
      const opportunity = await anOpportunity(customerId, 'NO-SUCH-PLAN-X1');
      expect(opportunity.expectedValue).toBeNull();
      const won = await win(opportunity.id);
      const order = await untilOrder(won.order.id, 'REJECTED');
      expect(failedChecks(order)).toEqual([['PRICING', 'no plan "NO-SUCH-PLAN-X1"']]);
      expect(await billingRecords(customerId)).toEqual({ subscriptions: [], invoices: 0 });
    });

    it('TAX_CONTEXT: no tax rate for the account on the start date', async () => {
      // The United States have state rates only: an account without a state has no rate.
      const customerId = await aCustomer({ country: 'US' });
      const planCode = await aPlan();
      await billingKnows(customerId);
      const order = await rejected(customerId, planCode);
      expect(failedChecks(order)).toEqual([['TAX_CONTEXT', 'no tax rate for US on 2026-03-01']]);
      expect(await billingRecords(customerId)).toEqual({ subscriptions: [], invoices: 0 });
    });

    it('ELIGIBILITY: the account already has an active subscription of the plan', async () => {
      const customerId = await aCustomer();
      const planCode = await aPlan();
      await billingKnows(customerId);
      const first = await win((await anOpportunity(customerId, planCode, 2)).id);
      await untilOrder(first.order.id, 'COMPLETED');
      const before = await billingRecords(customerId);
      expect(before.subscriptions).toHaveLength(1);

      const order = await rejected(customerId, planCode, 3);
      expect(failedChecks(order)).toEqual([
        ['ELIGIBILITY', `account ${customerId} already has an active subscription of plan ${planCode}`],
      ]);
      expect(await billingRecords(customerId)).toEqual(before);
    });
  });

  describe('bad input answers userErrors and writes nothing', () => {
    it('an unknown account, a stale expectedVersion, a LOST opportunity; a portal user may not win', async () => {
      const unknown = await send(
        'sales.CreateOpportunity',
        {
          input: {
            customerId: randomUUID(),
            name: 'Ghost',
            planCode: 'TEAM',
            seats: 1,
            startDate: '2026-03-01',
            idempotencyKey: unique('opp'),
          },
        },
        asSales(),
      );
      expect(unknown.createOpportunity).toMatchObject({
        opportunity: null,
        userErrors: [{ code: 'CUSTOMER_NOT_FOUND', field: 'customerId' }],
      });

      const customerId = await aCustomer();
      const planCode = await aPlan();
      const opportunity = await anOpportunity(customerId, planCode);
      const stale = await win(opportunity.id, { expectedVersion: 7 });
      expect(stale).toMatchObject({
        order: null,
        userErrors: [{ code: 'VERSION_CONFLICT', field: 'expectedVersion' }],
      });

      const portal = await graphql(
        stack.gatewayUrl,
        operation('sales.WinOpportunity'),
        { input: { opportunityId: opportunity.id, idempotencyKey: unique('win') } },
        { authorization: `Bearer ${await stack.token('portal')}` },
      );
      expect(portal.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

      const lost = await graphql(
        stack.gatewayUrl,
        `
          mutation Lose($input: LoseOpportunityInput!) {
            loseOpportunity(input: $input) {
              opportunity {
                stage
                version
              }
              userErrors {
                code
              }
            }
          }
        `,
        { input: { opportunityId: opportunity.id, expectedVersion: 1, idempotencyKey: unique('lose') } },
        asSales(),
      );
      expect(lost.data).toEqual({
        loseOpportunity: { opportunity: { stage: 'LOST', version: 2 }, userErrors: [] },
      });
      const wonLost = await win(opportunity.id);
      expect(wonLost).toMatchObject({ order: null, userErrors: [{ code: 'OPPORTUNITY_LOST' }] });

      const orders = await stack.database.db
        .withSchema('customer')
        .selectFrom('sales_order')
        .select('id')
        .where('opportunity_id', '=', opportunity.id)
        .execute();
      expect(orders).toEqual([]);
    });
  });
});

describe('order reconciliation (npm run c2c -- reconcile)', () => {
  const ROOT = join(import.meta.dirname, '..', '..');
  const reconcile = async (): Promise<ReconciliationReport> => {
    const token = await stack.token('finance');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'cli/c2c.ts', 'reconcile', '--json', '--url', stack.gatewayUrl, '--token', token],
      { cwd: ROOT },
    ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    return JSON.parse(stdout) as ReconciliationReport;
  };

  it('finds every won opportunity with its one subscription on its terms, and names a mismatch', async () => {
    const customerId = await aCustomer();
    const planCode = await aPlan();
    await billingKnows(customerId);
    const opportunity = await anOpportunity(customerId, planCode, 4);
    const won = await win(opportunity.id);
    const completed = await untilOrder(won.order.id, 'COMPLETED');

    const clean = await reconcile();
    expect(clean.orders).toEqual([]);
    expect(clean.ordersCompared).toBeGreaterThanOrEqual(3);

    // The CRM's record of the deal drifts from what billing opened (as a bad data fix would do).
    await stack.database.db
      .withSchema('customer')
      .updateTable('opportunity')
      .set({ seats: 6 })
      .where('id', '=', opportunity.id)
      .execute();
    const drifted = await reconcile();
    expect(drifted.orders).toEqual([
      {
        kind: 'TERMS_MISMATCH',
        opportunityId: opportunity.id,
        subscriptionIds: [completed.subscription.id],
        crm: `${planCode} × 6 from 2026-03-01`,
        billing: `${planCode} × 4 from 2026-03-01`,
      },
    ]);
    expect(drifted.differences).toBeGreaterThanOrEqual(1);
    await stack.database.db
      .withSchema('customer')
      .updateTable('opportunity')
      .set({ seats: 4 })
      .where('id', '=', opportunity.id)
      .execute();
  });
});
