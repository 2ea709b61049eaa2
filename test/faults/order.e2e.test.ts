import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, unique, waitFor } from '@c2c/platform/testing';
import type { Stack } from '@c2c/apps/stack';
import { aCustomerWithAPlan } from '../support/scenarios.ts';
import { checkInvariants, waitForQuiescence } from './invariants.ts';
import { RETRY, send, startFaultStack } from './support.ts';

// Faults while an order runs (docs/orders.md), in one process: billing or the ERP refuses the
// order's work (a broken table, planted as a trigger) or is down. The order shows EXCEPTION at the
// failing step with the attempts and the error; after the fix the operator's replay drives it to
// COMPLETED, with exactly one subscription, one first invoice and one posting.

let stack: Stack;
beforeAll(async () => {
  stack = await startFaultStack();
});
afterAll(() => stack?.stop());

const db = () => stack.database.db;

/** A DE customer known to billing, a 9.95 USD/month plan, and an open opportunity for 3 seats. */
async function anOpportunity(): Promise<{ customerId: string; opportunityId: string }> {
  const url = stack.gatewayUrl;
  const { customerId, planCode } = await aCustomerWithAPlan((name, variables) => send(url, name, variables), {
    name: 'Order Fault Co',
    planPrefix: 'ORDER-FAULT',
  });
  await waitFor(
    async () =>
      (await db()
        .withSchema('subscription')
        .selectFrom('bill_to_account')
        .select('id')
        .where('id', '=', customerId)
        .executeTakeFirst()) !== undefined,
    15_000,
    'billing to know the customer',
  );
  const data = await send(url, 'sales.CreateOpportunity', {
    input: {
      customerId,
      name: unique('Deal'),
      planCode,
      seats: 3,
      startDate: '2026-03-01',
      idempotencyKey: unique('opp'),
    },
  });
  expect(data.createOpportunity.userErrors).toEqual([]);
  return { customerId, opportunityId: data.createOpportunity.opportunity.id };
}

async function win(opportunityId: string): Promise<string> {
  const data = await send(stack.gatewayUrl, 'sales.WinOpportunity', {
    input: { opportunityId, idempotencyKey: unique('win') },
  });
  expect(data.winOpportunity.userErrors).toEqual([]);
  return data.winOpportunity.order.id;
}

const orderStatus = async (id: string) => (await send(stack.gatewayUrl, 'sales.OrderStatus', { id })).order;
const untilOrder = (id: string, status: string) =>
  waitFor(
    async () => {
      const order = await orderStatus(id);
      return order.status === status ? order : undefined;
    },
    30_000,
    `order ${id} to be ${status}`,
  );

/** Exactly what the three systems hold for the customer: subscriptions, invoices, postings, contract. */
async function book(customerId: string) {
  const count = async (query: ReturnType<typeof sql<{ n: number }>>) =>
    (await query.execute(db())).rows[0]?.n;
  return {
    subscriptions: await count(
      sql`select count(*)::int as n from subscription.subscription where customer_id = ${customerId}`,
    ),
    invoices: await count(
      sql`select count(*)::int as n from subscription.invoice where customer_id = ${customerId}`,
    ),
    receivables: await count(
      sql`select count(*)::int as n from finance.receivable where customer_id = ${customerId}`,
    ),
    contractLines: await count(
      sql`select count(*)::int as n from customer.contract_line where customer_id = ${customerId}`,
    ),
  };
}

async function replay(system: 'Billing' | 'Erp'): Promise<any[]> {
  const data = await send(stack.gatewayUrl, `ops.Replay${system}DeadLetters`, { all: true });
  const payload = data[`replay${system}DeadLetters`];
  expect(payload.userErrors).toEqual([]);
  return payload.results;
}

/** Plants a trigger that refuses matching rows of a table, as a broken table or rule would. */
async function refuse(
  table: string,
  column: string,
  value: string,
  message: string,
): Promise<() => Promise<void>> {
  const fn = `refuse_${randomUUID().replace(/-/g, '')}`;
  const [schema] = table.split('.');
  await sql
    .raw(
      `create function ${schema}.${fn}() returns trigger language plpgsql as $$
       begin raise exception '${message}'; end $$;
       create trigger ${fn} before insert on ${table} for each row
       when (new.${column} = '${value}') execute function ${schema}.${fn}();`,
    )
    .execute(db());
  return async () => {
    await sql.raw(`drop trigger ${fn} on ${table}`).execute(db());
  };
}

describe('an order while billing fails', () => {
  it('shows EXCEPTION at BILLING with attempts and the error, and completes once after the replay', async () => {
    const { customerId, opportunityId } = await anOpportunity();
    const fix = await refuse(
      'subscription.subscription',
      'customer_id',
      customerId,
      'subscription table is locked',
    );

    const orderId = await win(opportunityId);
    const failed = await untilOrder(orderId, 'EXCEPTION');
    expect(failed.steps).toEqual([
      {
        system: 'BILLING',
        status: 'FAILED',
        attempts: RETRY.maxAttempts,
        lastError: expect.stringContaining('subscription table is locked'),
        completedAt: null,
      },
      { system: 'ERP', status: 'PENDING', attempts: 0, lastError: null, completedAt: null },
      { system: 'CRM', status: 'PENDING', attempts: 0, lastError: null, completedAt: null },
    ]);
    expect(failed.subscription).toBeNull();
    expect(await book(customerId)).toEqual({
      subscriptions: 0,
      invoices: 0,
      receivables: 0,
      contractLines: 0,
    });

    const letters = (await send(stack.gatewayUrl, 'ops.DeadLetters', {})) as Record<'billing', any[]>;
    expect(letters.billing).toEqual([
      expect.objectContaining({ consumer: 'subscription.order', eventType: 'opportunity.won' }),
    ]);

    await fix();
    expect((await replay('Billing')).map((r) => r.ok)).toEqual([true]);
    expect(await replay('Billing')).toEqual([]);

    const completed = await untilOrder(orderId, 'COMPLETED');
    expect(completed.steps).toEqual([
      {
        system: 'BILLING',
        status: 'DONE',
        attempts: RETRY.maxAttempts + 1,
        lastError: expect.stringContaining('subscription table is locked'),
        completedAt: expect.any(String),
      },
      { system: 'ERP', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
      { system: 'CRM', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
    ]);
    expect(completed.subscription).toMatchObject({
      seats: 3,
      invoices: { nodes: [{ posting: { status: 'POSTED' } }] },
    });
    await waitForQuiescence(db());
    expect(await book(customerId)).toEqual({
      subscriptions: 1,
      invoices: 1,
      receivables: 1,
      contractLines: 1,
    });
    await checkInvariants(db(), { acknowledged: [] });
  });
});

describe('an order while the ERP fails', () => {
  it('shows EXCEPTION at ERP, and completes once after the replay', async () => {
    const { customerId, opportunityId } = await anOpportunity();
    const fix = await refuse('finance.receivable', 'customer_id', customerId, 'receivable refused');

    const orderId = await win(opportunityId);
    const failed = await untilOrder(orderId, 'EXCEPTION');
    expect(failed.steps).toEqual([
      { system: 'BILLING', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
      {
        system: 'ERP',
        status: 'FAILED',
        attempts: RETRY.maxAttempts,
        lastError: expect.stringContaining('receivable refused'),
        completedAt: null,
      },
      expect.objectContaining({ system: 'CRM' }),
    ]);
    // The ERP has no receivable for the invoice: its posting still reads PENDING there.
    expect(failed.subscription.invoices.nodes[0].posting.status).toBe('PENDING');

    await fix();
    expect((await replay('Erp')).map((r) => r.ok)).toEqual([true]);
    const completed = await untilOrder(orderId, 'COMPLETED');
    expect(completed.steps[1]).toMatchObject({
      system: 'ERP',
      status: 'DONE',
      attempts: RETRY.maxAttempts + 1,
      completedAt: expect.any(String),
    });
    expect(completed.subscription.invoices.nodes[0].posting.status).toBe('POSTED');
    await waitForQuiescence(db());
    expect(await book(customerId)).toEqual({
      subscriptions: 1,
      invoices: 1,
      receivables: 1,
      contractLines: 1,
    });
    await checkInvariants(db(), { acknowledged: [] });
  });
});

describe('an order while a system is down', () => {
  it('billing down: the order waits VALIDATING, and completes once billing is back', async () => {
    const { customerId, opportunityId } = await anOpportunity();
    await stack.stopSubgraph('subscription');
    const orderId = await win(opportunityId);
    // The CRM answers alone; the order waits for billing's checks, nothing is dead-lettered.
    const waiting = await graphql<any>(stack.gatewayUrl, 'query($id: ID!) { order(id: $id) { status } }', {
      id: orderId,
    });
    expect(waiting.data?.order.status).toBe('VALIDATING');
    await stack.startSubgraph('subscription');
    const completed = await untilOrder(orderId, 'COMPLETED');
    expect(completed.steps.map((s: any) => [s.system, s.status, s.attempts])).toEqual([
      ['BILLING', 'DONE', 1],
      ['ERP', 'DONE', 1],
      ['CRM', 'DONE', 1],
    ]);
    await waitForQuiescence(db());
    expect(await book(customerId)).toEqual({
      subscriptions: 1,
      invoices: 1,
      receivables: 1,
      contractLines: 1,
    });
  });

  it('ERP down: the order waits INVOICED, and completes once the ERP is back', async () => {
    const { customerId, opportunityId } = await anOpportunity();
    await stack.stopSubgraph('finance');
    const orderId = await win(opportunityId);
    const invoiced = await waitFor(
      async () => {
        const order = await graphql<any>(
          stack.gatewayUrl,
          'query($id: ID!) { order(id: $id) { status steps { system status } } }',
          { id: orderId },
        );
        return order.data?.order.status === 'INVOICED' ? order.data.order : undefined;
      },
      20_000,
      'the order to be INVOICED',
    );
    expect(invoiced.steps[1]).toEqual({ system: 'ERP', status: 'PENDING' });
    await stack.startSubgraph('finance');
    const completed = await untilOrder(orderId, 'COMPLETED');
    expect(completed.steps[1]).toMatchObject({ system: 'ERP', status: 'DONE', attempts: 1 });
    await waitForQuiescence(db());
    expect(await book(customerId)).toEqual({
      subscriptions: 1,
      invoices: 1,
      receivables: 1,
      contractLines: 1,
    });
    await checkInvariants(db(), { acknowledged: [] });
  });
});
