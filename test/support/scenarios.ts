import { expect } from 'vitest';
import { unique, waitFor } from '@c2c/platform/testing';

// Scenario builders shared by the tests that drive the whole stack through the gateway with
// registered client operations. They speak the business's language (customers, plans,
// subscriptions), so they live here and not in the domain-free @c2c/platform/testing.

/** Sends a registered operation (schema/operations/) through the gateway; GraphQL errors fail the test. */
export type Send = <T = any>(name: string, variables: Record<string, unknown>) => Promise<T>;

export interface SyncedSubscription {
  customerId: string;
  subscriptionId: string;
  /** The plan's unit price in minor units (USD, a month). */
  unitPriceMinor: number;
}

export interface CustomerOptions {
  /** The customer's name before the unique suffix, and its e-mail address. */
  name?: string;
  email?: string;
  country?: string;
  /** The plan code's prefix before the unique suffix. */
  planPrefix?: string;
}

/** A new EMEA-MM customer and a new 9.95 USD/seat/month plan with a unique code. */
export async function aCustomerWithAPlan(
  send: Send,
  options: CustomerOptions = {},
): Promise<{ customerId: string; planCode: string }> {
  const created = await send('admin.CreateCustomer', {
    input: {
      name: unique(options.name ?? 'Contoso'),
      email: options.email ?? 'ap@contoso.example',
      country: options.country ?? 'DE',
      businessUnit: 'EMEA-MM',
      idempotencyKey: unique('cust'),
    },
  });
  const customerId = created.createCustomer.customer.id as string;
  const planCode = unique(options.planPrefix ?? 'SEATS')
    .toUpperCase()
    .replace(/[^A-Z0-9-]/g, '-')
    .slice(0, 60);
  const plan = await send('admin.CreatePlan', {
    input: {
      code: planCode,
      name: 'Team',
      billingPeriod: 'MONTH',
      unitPrice: { amount: '9.95', currency: 'USD' },
      idempotencyKey: unique('plan'),
    },
  });
  expect(plan.createPlan.userErrors).toEqual([]);
  return { customerId, planCode };
}

export interface SyncedSubscriptionOptions extends CustomerOptions {
  /** How long each wait (billing learning of the customer; the CRM and the ERP syncing) may take. */
  timeoutMs?: number;
  /** The subscription's first day (default 2026-03-01). */
  startDate?: string;
}

/**
 * A customer with a 9.95 USD/seat/month subscription from 2026-03-01 (or `startDate`), known to the CRM (its
 * contract value) and posted by the ERP (its first invoice).
 */
export async function aSyncedSubscription(
  send: Send,
  seats: number,
  options: SyncedSubscriptionOptions = {},
): Promise<SyncedSubscription> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const { customerId, planCode: code } = await aCustomerWithAPlan(send, options);
  const subscription = await waitFor(
    async () => {
      const data = await send('admin.CreateSubscription', {
        input: {
          customerId,
          planCode: code,
          seats,
          startDate: options.startDate ?? '2026-03-01',
          idempotencyKey: unique('sub'),
        },
      });
      const payload = data.createSubscription;
      if (payload.userErrors[0]?.code === 'UNKNOWN_CUSTOMER') return undefined;
      expect(payload.userErrors).toEqual([]);
      return payload.subscription;
    },
    timeoutMs,
    'the bill-to replica',
  );
  await waitFor(
    async () => {
      const view = (await send('portal.CustomerToCash', { customerId })).customer;
      return view.contractValue && view.subscriptions[0].invoices.nodes[0].posting?.status === 'POSTED';
    },
    timeoutMs,
    'the subscription to reach the CRM and the ERP',
  );
  return { customerId, subscriptionId: subscription.id as string, unitPriceMinor: 995 };
}
