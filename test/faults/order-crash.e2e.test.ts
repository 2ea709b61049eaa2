import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultPointName } from '@c2c/platform/core';
import type { AnyDb } from '@c2c/platform/db';
import { graphql, unique, waitFor } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
import { aCustomerWithAPlan } from '../support/scenarios.ts';
import { childStore, freePort, startChildStack, type ChildStack, type ChildStore } from './child-stack.ts';
import { checkInvariants } from './invariants.ts';
import { send } from './support.ts';

// The one-process stack as a child process, killed (SIGKILL at a named fault point, docs/faults.md)
// between winning an opportunity and billing's subscription: after the win committed and before
// `opportunity.won` left the CRM's outbox, and after billing committed the subscription but before
// its delivery was acknowledged. Restarted on the same store, each order completes with exactly one
// subscription.

let store: ChildStore;
let dataDir: string;
let ports: { gateway: number; customer: number; subscription: number; finance: number };
let child: ChildStack | null = null;
let customerId: string;

const start = async (faultPoint?: FaultPointName) => {
  child = await startChildStack({ store, ports, ...(faultPoint ? { faultPoint } : {}) });
  return child;
};
const stop = async () => {
  const exit = await child?.stop();
  expect(exit, child?.output()).toEqual({ code: 0, signal: null });
  child = null;
};
async function inspect<T>(check: (db: AnyDb) => Promise<T>): Promise<T> {
  const database = await store.open();
  try {
    return await check(database.db);
  } finally {
    await database.close();
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'c2c-order-crash-'));
  store = await childStore(dataDir);
  ports = {
    gateway: await freePort(),
    customer: await freePort(),
    subscription: await freePort(),
    finance: await freePort(),
  };
  const { gatewayUrl } = await start();
  ({ customerId } = await aCustomerWithAPlan((name, variables) => send(gatewayUrl, name, variables), {
    name: 'Crash Order Co',
    planPrefix: 'CRASH-ORDER',
  }));
  await stop();
  // Billing knows the customer before any fault is armed: nothing is in flight when a child starts.
  await inspect(async (db) =>
    expect(
      await db
        .withSchema('subscription')
        .selectFrom('bill_to_account')
        .select('id')
        .where('id', '=', customerId)
        .execute(),
    ).toHaveLength(1),
  );
});

afterAll(async () => {
  if (child) {
    await child.stop();
    child = null;
  }
  await store?.dispose();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface CrashState {
  orders: { id: string; status: string }[];
  subscriptions: number;
  won: { published: boolean }[];
}

const crashState = async (db: AnyDb, opportunityId: string): Promise<CrashState> => ({
  orders: (
    await sql<{ id: string; status: string }>`
      select id, status from customer.sales_order where opportunity_id = ${opportunityId}`.execute(db)
  ).rows,
  subscriptions:
    (
      await sql<{ n: number }>`
      select count(*)::int as n from subscription.order_subscription where opportunity_id = ${opportunityId}`.execute(
        db,
      )
    ).rows[0]?.n ?? -1,
  won: (
    await sql<{ published: boolean }>`
      select published_at is not null as published from customer.outbox
      where type = 'opportunity.won' and subject = ${opportunityId}`.execute(db)
  ).rows,
});

/** Creates an opportunity on a clean child, then wins it on a child with `point` armed until it dies. */
async function crashAndRecover(point: FaultPointName, atCrash: (state: CrashState) => void) {
  const { gatewayUrl: cleanUrl } = await start();
  // A plan of its own (creating a plan emits no event): the account has no subscription of it yet.
  const planCode = unique('CRASH-PLAN')
    .toUpperCase()
    .replace(/[^A-Z0-9-]/g, '-')
    .slice(0, 60);
  const plan = await send(cleanUrl, 'admin.CreatePlan', {
    input: {
      code: planCode,
      name: 'Team',
      billingPeriod: 'MONTH',
      unitPrice: { amount: '9.95', currency: 'USD' },
      idempotencyKey: unique('plan'),
    },
  });
  expect(plan.createPlan.userErrors).toEqual([]);
  const created = await send(cleanUrl, 'sales.CreateOpportunity', {
    input: {
      customerId,
      name: unique('Deal'),
      planCode,
      seats: 2,
      startDate: '2026-03-01',
      idempotencyKey: unique('opp'),
    },
  });
  expect(created.createOpportunity.userErrors).toEqual([]);
  const opportunityId = created.createOpportunity.opportunity.id as string;
  await stop();

  const armed = await start(point);
  const input = { opportunityId, idempotencyKey: unique('win') };
  // The process may die before or after it answers.
  await graphql(armed.gatewayUrl, operation('sales.WinOpportunity'), { input }).catch(() => undefined);
  const exit = await armed.exited;
  expect(exit, `the child dies at ${point}:\n${armed.output()}`).toEqual({ code: null, signal: 'SIGKILL' });
  child = null;

  const state = await inspect((db) => crashState(db, opportunityId));
  expect(state.orders, 'the win committed before the crash').toHaveLength(1);
  atCrash(state);

  // Restart without the fault; the client retries the win with the same key.
  const { gatewayUrl } = await start();
  const retried = await graphql<any>(gatewayUrl, operation('sales.WinOpportunity'), { input });
  expect(retried.errors).toBeUndefined();
  const orderId = retried.data.winOpportunity.order.id as string;
  expect(orderId, 'the retry returns the stored order').toBe(state.orders[0]!.id);
  const completed = await waitFor(
    async () => {
      const order = (await send(gatewayUrl, 'sales.OrderStatus', { id: orderId })).order;
      return order.status === 'COMPLETED' ? order : undefined;
    },
    30_000,
    `order ${orderId} to complete`,
  ).catch(async (error: Error) => {
    const order = (await send(gatewayUrl, 'sales.OrderStatus', { id: orderId })).order;
    throw new Error(`${error.message}; the order: ${JSON.stringify(order)}`);
  });
  expect(completed.steps.map((s: any) => [s.system, s.status, s.attempts])).toEqual([
    ['BILLING', 'DONE', 1],
    ['ERP', 'DONE', 1],
    ['CRM', 'DONE', 1],
  ]);
  await stop();

  await inspect(async (db) => {
    expect((await crashState(db, opportunityId)).subscriptions, 'exactly one subscription').toBe(1);
    const invoices = await sql<{ n: number }>`
      select count(*)::int as n from subscription.invoice i join subscription.order_subscription o
      on o.subscription_id = i.subscription_id where o.opportunity_id = ${opportunityId}`.execute(db);
    expect(invoices.rows[0]?.n, 'exactly one first invoice').toBe(1);
    await checkInvariants(db, { acknowledged: [] });
  });
}

describe('a crash between the win and the subscription, then a restart on the same store', () => {
  it('outbox.after-commit: the order is recorded, opportunity.won not yet sent — one subscription after the restart', async () => {
    await crashAndRecover('outbox.after-commit', (state) => {
      expect(state.orders[0]!.status).toBe('VALIDATING');
      expect(state.won).toEqual([{ published: false }]);
      expect(state.subscriptions).toBe(0);
    });
  });

  it('consumer.after-commit: a consumer of the order committed, its delivery not acknowledged — still one', async () => {
    await crashAndRecover('consumer.after-commit', (state) => {
      // opportunity.won left the CRM; the first consumer to commit after it died before its ack:
      // billing's (the subscription is there) or another of the order's flow (not yet).
      expect(state.won).toEqual([{ published: true }]);
      expect(state.subscriptions).toBeLessThanOrEqual(1);
    });
  });
});
