import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixedClock, graphql, unique, waitFor } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
import type { Stack } from '@c2c/apps/stack';
import { startTestStack } from '../support/stack.ts';

// The whole stack over real HTTP: gateway → three subgraphs, one database, the embedded event backbone.
// Every request below is a registered client operation from schema/operations/, sent unchanged.

let stack: Stack;
const clock = fixedClock('2026-03-10T12:00:00Z');

async function send<T = any>(name: string, variables: Record<string, unknown>): Promise<T> {
  const result = await graphql(stack.gatewayUrl, operation(name), variables);
  if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

async function createCustomer(overrides: Record<string, unknown> = {}): Promise<string> {
  const data = await send('admin.CreateCustomer', {
    input: {
      name: unique('Northwind'),
      email: 'ap@northwind.example',
      country: 'DE',
      businessUnit: 'EMEA-SMB',
      idempotencyKey: unique('cust'),
      ...overrides,
    },
  });
  expect(data.createCustomer.userErrors).toEqual([]);
  return data.createCustomer.customer.id;
}

async function createPlan(
  unitPrice: { amount: string; currency: string },
  billingPeriod = 'MONTH',
): Promise<string> {
  const code = unique('PLAN')
    .toUpperCase()
    .replace(/[^A-Z0-9-]/g, '-')
    .slice(0, 60);
  const data = await send('admin.CreatePlan', {
    input: { code, name: 'Pro', billingPeriod, unitPrice, idempotencyKey: unique('plan') },
  });
  expect(data.createPlan.userErrors).toEqual([]);
  return code;
}

/** Creates a subscription, retrying while billing's bill-to replica has not yet received the customer. */
async function createSubscription(input: Record<string, unknown>) {
  return waitFor(
    async () => {
      const data = await send('admin.CreateSubscription', {
        input: { idempotencyKey: unique('sub'), ...input },
      });
      const payload = data.createSubscription;
      if (payload.userErrors[0]?.code === 'UNKNOWN_CUSTOMER') return undefined;
      expect(payload.userErrors).toEqual([]);
      return payload.subscription;
    },
    15_000,
    'the bill-to replica',
  );
}

beforeAll(async () => {
  stack = await startTestStack({
    clock,
  });
});
afterAll(() => stack?.stop());

describe('customer-to-cash through the gateway', () => {
  it('follows a customer from account to invoice, ERP posting, revenue, payment and PAID', async () => {
    const customerId = await createCustomer();
    const planCode = await createPlan({ amount: '31.00', currency: 'EUR' });
    const subscription = await createSubscription({
      customerId,
      planCode,
      seats: 1,
      startDate: '2026-01-15',
    });
    expect(subscription).toMatchObject({
      status: 'ACTIVE',
      seats: 1,
      version: 1,
      startDate: '2026-01-15',
      currentPeriod: { start: '2026-01-15', end: '2026-02-15' },
    });
    // 31.00 EUR in advance, German VAT 19%: HALF_UP(31.00 × 0.19) = 5.89.
    expect(subscription.invoices.nodes).toHaveLength(1);
    expect(subscription.invoices.nodes[0].total).toEqual({ amount: '36.89', currency: 'EUR' });
    const invoiceId = subscription.invoices.nodes[0].id;

    const posted = await waitFor(
      async () => {
        const view = (await send('portal.CustomerToCash', { customerId })).customer;
        const invoice = view.subscriptions[0].invoices.nodes[0];
        return invoice.posting?.status === 'POSTED' && view.contractValue ? view : undefined;
      },
      15_000,
      'the ERP posting',
    );
    expect(posted).toMatchObject({
      id: customerId,
      status: 'ACTIVE',
      businessUnit: 'EMEA-SMB',
      country: 'DE',
    });
    expect(posted.contractValue).toEqual({ amount: '372.00', currency: 'EUR' });
    const sub = posted.subscriptions[0];
    expect(sub.plan).toEqual({
      code: planCode,
      name: 'Pro',
      billingPeriod: 'MONTH',
      unitPrice: { amount: '31.00', currency: 'EUR' },
    });
    expect(sub.invoices.totalCount).toBe(1);
    expect(sub.invoices.pageInfo.hasNextPage).toBe(false);
    const invoice = sub.invoices.nodes[0];
    expect(invoice).toMatchObject({
      id: invoiceId,
      kind: 'INVOICE',
      status: 'OPEN',
      issuedOn: '2026-01-15',
      subtotal: { amount: '31.00', currency: 'EUR' },
      tax: { amount: '5.89', currency: 'EUR' },
      total: { amount: '36.89', currency: 'EUR' },
      amountDue: { amount: '36.89', currency: 'EUR' },
    });
    expect(invoice.posting.journalEntryId).toEqual(expect.any(String));
    expect(invoice.posting.postedAt).toEqual(expect.any(String));
    // Revenue recognition: 31.00 for 2026-01-15→2026-02-15 → January 17.00, February 14.00: sums to the subtotal.
    expect(sub.revenueSchedule).toEqual([
      { month: '2026-01', revenue: { amount: '17.00', currency: 'EUR' } },
      { month: '2026-02', revenue: { amount: '14.00', currency: 'EUR' } },
    ]);
    // Due 30 days after issue (2026-02-14); the clock says 2026-03-10, so it is overdue.
    expect(posted.receivable).toEqual({
      balance: { amount: '36.89', currency: 'EUR' },
      overdue: { amount: '36.89', currency: 'EUR' },
    });

    const paid = await send('finance.RecordPayment', {
      input: {
        invoiceId,
        amount: { amount: '36.89', currency: 'EUR' },
        receivedOn: '2026-03-01',
        reference: 'SEPA-42',
        idempotencyKey: unique('pay'),
      },
    });
    expect(paid.recordPayment.userErrors).toEqual([]);
    expect(paid.recordPayment.payment).toMatchObject({
      amount: { amount: '36.89', currency: 'EUR' },
      receivedOn: '2026-03-01',
      invoice: { id: invoiceId, amountDue: { amount: '0.00', currency: 'EUR' } },
    });

    const settled = await waitFor(
      async () => {
        const view = (await send('portal.CustomerToCash', { customerId })).customer;
        return view.subscriptions[0].invoices.nodes[0].status === 'PAID' ? view : undefined;
      },
      15_000,
      'billing to mark the invoice PAID',
    );
    expect(settled.subscriptions[0].invoices.nodes[0].amountDue).toEqual({ amount: '0.00', currency: 'EUR' });
    expect(settled.receivable).toEqual({
      balance: { amount: '0.00', currency: 'EUR' },
      overdue: { amount: '0.00', currency: 'EUR' },
    });
  });

  it('rejects an overpayment and a payment in the wrong currency, changing nothing', async () => {
    const customerId = await createCustomer({ country: 'JP', businessUnit: 'APAC' });
    const planCode = await createPlan({ amount: '1500', currency: 'JPY' });
    const subscription = await createSubscription({
      customerId,
      planCode,
      seats: 2,
      startDate: '2026-03-01',
    });
    const invoiceId = subscription.invoices.nodes[0].id;
    const total = subscription.invoices.nodes[0].total;
    expect(total).toEqual({ amount: '3300', currency: 'JPY' }); // 3000 + 10% consumption tax
    await waitFor(
      async () => {
        const view = (await send('portal.CustomerToCash', { customerId })).customer;
        return view.subscriptions[0].invoices.nodes[0].posting?.status === 'POSTED';
      },
      15_000,
      'the ERP posting',
    );
    for (const [amount, code] of [
      [{ amount: '3301', currency: 'JPY' }, 'OVERPAYMENT'],
      [{ amount: '30.00', currency: 'USD' }, 'CURRENCY_MISMATCH'],
      [{ amount: '10.5', currency: 'JPY' }, 'INVALID_AMOUNT'],
    ] as const) {
      const result = await send('finance.RecordPayment', {
        input: { invoiceId, amount, receivedOn: '2026-03-05', idempotencyKey: unique('pay') },
      });
      expect(result.recordPayment.payment).toBeNull();
      expect(result.recordPayment.userErrors[0].code).toBe(code);
    }
    const view = (await send('portal.CustomerToCash', { customerId })).customer;
    expect(view.receivable.balance).toEqual({ amount: '3300', currency: 'JPY' });
  });

  it('pages the customer list with receivables and subscriptions joined in', async () => {
    const businessUnit = unique('BU');
    for (let i = 0; i < 3; i++) await createCustomer({ businessUnit });
    const first = (await send('portal.Customers', { businessUnit, first: 2 })).customers;
    expect(first.totalCount).toBe(3);
    expect(first.nodes).toHaveLength(2);
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.nodes[0]).toMatchObject({
      status: 'ACTIVE',
      businessUnit,
      subscriptions: [],
      receivable: null,
    });
    const second = (
      await send('portal.Customers', { businessUnit, first: 2, after: first.pageInfo.endCursor })
    ).customers;
    expect(second.nodes).toHaveLength(1);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  it('answers N customers with one SQL query per subgraph entity type', async () => {
    const businessUnit = unique('NPLUS');
    const planCode = await createPlan({ amount: '10.00', currency: 'USD' });
    for (let i = 0; i < 8; i++) {
      const customerId = await createCustomer({ businessUnit, country: 'US', region: 'CA' });
      await createSubscription({ customerId, planCode, seats: 1 + i, startDate: '2026-02-01' });
    }
    const statements: string[] = [];
    const stop = stack.database.onQuery((sql) => statements.push(sql));
    const page = (await send('portal.Customers', { businessUnit, first: 50 })).customers;
    stop();
    expect(page.nodes).toHaveLength(8);
    expect(page.nodes.every((n: any) => n.subscriptions.length === 1)).toBe(true);
    const selectsOn = (table: string) =>
      statements.filter(
        (s) => /^\s*select/i.test(s) && s.includes(`from "${table.split('.')[0]}"."${table.split('.')[1]}"`),
      ).length;
    expect(selectsOn('subscription.subscription')).toBe(1);
    expect(selectsOn('finance.receivable')).toBe(1);
  });

  it('keeps the other subgraphs’ data when one is down, and says why without internals', async () => {
    const customerId = await createCustomer();
    const finance = stack.subgraphs.find((s) => s.name === 'finance');
    if (!finance) throw new Error('no finance subgraph');
    const address = finance.server.address();
    await new Promise<void>((resolve) => {
      finance.server.close(() => resolve());
      finance.server.closeAllConnections();
    });
    try {
      const result = await graphql(stack.gatewayUrl, operation('portal.CustomerToCash'), { customerId });
      expect((result.data as any).customer).toMatchObject({
        id: customerId,
        status: 'ACTIVE',
        receivable: null,
      });
      expect(result.errors?.length).toBeGreaterThan(0);
      const text = JSON.stringify(result.errors);
      expect(text).not.toMatch(/127\.0\.0\.1|http:\/\/|ECONNREFUSED|stack/);
      expect(result.errors?.[0]?.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
    } finally {
      await new Promise<void>((resolve) =>
        finance.server.listen((address as any).port, '127.0.0.1', () => resolve()),
      );
    }
  });

  it('serves /healthz and /readyz', async () => {
    const base = stack.gatewayUrl.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});
