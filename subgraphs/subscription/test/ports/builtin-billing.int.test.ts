import { describe, expect, it } from 'vitest';
import { formatMinor } from '@c2c/platform/core';
import { billingFromEnv } from '../../src/ports/billing-config.ts';
import { billingConformance, type BillingHarness } from './billing.conformance.ts';

const billing = (h: BillingHarness) => h.stack.database.db.withSchema('subscription');

// The built-in billing platform: our own tables are the system of record.
billingConformance('builtin', () => ({
  env: { BILLING_ADAPTER: 'builtin' },
  hasCustomer: async (h, customerId) =>
    (await billing(h)
      .selectFrom('bill_to_account')
      .select('id')
      .where('id', '=', customerId)
      .executeTakeFirst()) !== undefined,
  plans: async (h, code) =>
    (
      await billing(h)
        .selectFrom('plan')
        .select(['code', 'unit_price_minor', 'currency'])
        .where('code', '=', code)
        .execute()
    ).map((row) => ({ code: row.code, unitPrice: formatMinor(Number(row.unit_price_minor), row.currency) })),
  subscriptions: async (h, customerId) =>
    (
      await billing(h)
        .selectFrom('subscription')
        .select(['id', 'status', 'seats', 'version', 'cancel_at', 'cancelled_on'])
        .where('customer_id', '=', customerId)
        .orderBy('created_at')
        .execute()
    ).map((row) => ({
      id: row.id,
      status: row.status,
      seats: row.seats,
      version: Number(row.version),
      cancelAt: row.cancel_at === null ? null : String(row.cancel_at),
      cancelledOn: row.cancelled_on === null ? null : String(row.cancelled_on),
    })),
  documents: async (h, subscriptionId) => {
    const documents = await billing(h)
      .selectFrom('invoice')
      .select(['id', 'kind', 'currency', 'subtotal_minor', 'tax_minor', 'total_minor'])
      .where('subscription_id', '=', subscriptionId)
      .orderBy('seq')
      .execute();
    const lines = documents.length
      ? await billing(h)
          .selectFrom('invoice_line')
          .select(['invoice_id', 'quantity', 'amount_minor', 'tax_minor', 'period_start', 'period_end'])
          .where(
            'invoice_id',
            'in',
            documents.map((d) => d.id),
          )
          .orderBy('line_no')
          .execute()
      : [];
    return documents.map((d) => ({
      id: d.id,
      kind: d.kind,
      subtotal: formatMinor(Number(d.subtotal_minor), d.currency),
      tax: formatMinor(Number(d.tax_minor), d.currency),
      total: formatMinor(Number(d.total_minor), d.currency),
      lines: lines
        .filter((l) => l.invoice_id === d.id)
        .map((l) => ({
          quantity: l.quantity,
          amount: formatMinor(Number(l.amount_minor), d.currency),
          tax: formatMinor(Number(l.tax_minor), d.currency),
          periodStart: String(l.period_start),
          periodEnd: String(l.period_end),
        })),
    }));
  },
}));

describe('BILLING_ADAPTER', () => {
  it('is builtin by default', () => {
    expect(billingFromEnv({}).system).toBe('builtin');
  });

  it('stops the start with one message naming the valid adapters when it is unknown', () => {
    expect(() => billingFromEnv({ BILLING_ADAPTER: 'stripe' })).toThrow(
      /invalid configuration:\n {2}BILLING_ADAPTER: .*"builtin"/,
    );
  });
});
