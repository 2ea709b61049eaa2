import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, graphql, unique, waitFor } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
import type { Stack } from '@c2c/apps/stack';
import {
  decimalText,
  payInTryton,
  trytonReader,
  type TrytonReader,
} from '../../subgraphs/finance/test/ports/tryton-reader.ts';
import { aSyncedSubscription } from '../support/scenarios.ts';
import { startTestStack } from '../support/stack.ts';

// The whole stack with Tryton as the ERP (ERP_ADAPTER=tryton), through the gateway with registered
// client operations; what lands in Tryton is read over Tryton's own JSON-RPC, not through our code.
// Skipped without TRYTON_URL (scripts/tryton/server.sh --fresh prints one). Dates are in 2027 so
// that Tryton's invoice sequence (per fiscal year) never sees them out of order with other tests.
const TRYTON_URL = process.env.TRYTON_URL;
const clock = fixedClock('2027-03-10T12:00:00Z');

let stack: Stack;
let tryton: TrytonReader;
const ROOT = join(import.meta.dirname, '..', '..');

/** `npm run c2c -- reconcile` against the stack's gateway, as an operator runs it: exit code and output. */
async function reconcile(): Promise<{ code: number; stdout: string }> {
  const token = await stack.token('finance');
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'cli/c2c.ts', 'reconcile', '--url', stack.gatewayUrl, '--token', token],
      { cwd: ROOT },
    );
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '' };
  }
}

async function send<T = any>(name: string, variables: Record<string, unknown>): Promise<T> {
  const result = await graphql(stack.gatewayUrl, operation(name), variables);
  if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

async function trytonInvoice(reference: string) {
  const ids = await tryton.call<number[]>('account.invoice', 'search', [
    [['reference', '=', reference]],
    0,
    null,
    null,
  ]);
  if (ids.length === 0) return null;
  expect(ids).toHaveLength(1);
  const [row] = await tryton.call<Array<Record<string, any>>>('account.invoice', 'read', [
    ids,
    ['state', 'number', 'party', 'untaxed_amount', 'tax_amount', 'total_amount', 'amount_to_pay', 'lines'],
  ]);
  const lines = await tryton.call<Array<Record<string, any>>>('account.invoice.line', 'read', [
    row!.lines,
    ['amount', 'description'],
  ]);
  const [party] = await tryton.call<Array<Record<string, any>>>('party.party', 'read', [
    [row!.party],
    ['code'],
  ]);
  return {
    id: row!.id as number,
    state: row!.state as string,
    number: row!.number as string | null,
    partyCode: party!.code as string,
    untaxed: decimalText(row!.untaxed_amount),
    tax: decimalText(row!.tax_amount),
    total: decimalText(row!.total_amount),
    amountToPay: decimalText(row!.amount_to_pay),
    lines: lines.map((l) => ({ amount: decimalText(l.amount), description: String(l.description) })),
  };
}

describe.skipIf(!TRYTON_URL)('the stack with Tryton as the ERP', () => {
  beforeAll(async () => {
    stack = await startTestStack({
      clock,
      retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
      env: {
        ERP_ADAPTER: 'tryton',
        TRYTON_URL,
        TRYTON_COMPANY: 'C2C Demo Company',
        TRYTON_CURRENCY: 'USD',
        TRYTON_POLL_MS: '200',
      },
    });
    tryton = await trytonReader(TRYTON_URL!);
  }, 120_000);
  afterAll(() => stack?.stop());

  it('posts invoices in Tryton exactly, routes payments there, brings back a payment entered in Tryton, and reconciles against Tryton', async () => {
    const { customerId, subscriptionId } = await aSyncedSubscription(send, 3, {
      startDate: '2027-03-01',
      timeoutMs: 30_000,
    });
    // The first invoice: 3 × 9.95 = 29.85, German VAT 19 % = 5.67 (5.6715 HALF_UP), 35.52.
    const view = (await send('portal.CustomerToCash', { customerId })).customer;
    const first = view.subscriptions[0].invoices.nodes[0];
    expect(await trytonInvoice(first.id)).toMatchObject({
      state: 'posted',
      partyCode: customerId,
      untaxed: '29.85',
      tax: '5.67',
      total: '35.52',
      amountToPay: '35.52',
    });

    const amended = await send('support.AmendSubscription', {
      input: {
        subscriptionId,
        seats: 5,
        effectiveDate: '2027-03-10',
        expectedVersion: 1,
        idempotencyKey: unique('amend'),
        reason: 'two new hires',
      },
    });
    expect(amended.amendSubscription.userErrors).toEqual([]);
    const amendment = amended.amendSubscription.amendment;
    // Proration: 2 × 9.95 × 22/31 = 14.122… → 14.12; VAT 19 %: 2.6828 → 2.68; 16.80.
    expect(amendment.invoice.total.amount).toBe('16.80');
    const completed = await waitFor(
      async () => {
        const status = (await send('support.AmendmentStatus', { id: amendment.id })).amendment;
        return status.status === 'COMPLETED' ? status : undefined;
      },
      30_000,
      'the amendment to complete with Tryton as the ERP',
    );
    expect(completed.steps.map((s: any) => `${s.system}:${s.status}`)).toEqual([
      'BILLING:DONE',
      'ERP:DONE',
      'CRM:DONE',
    ]);
    const proration = await trytonInvoice(amendment.invoice.id);
    expect(proration).toMatchObject({
      state: 'posted',
      partyCode: customerId,
      untaxed: '14.12',
      tax: '2.68',
      total: '16.80',
      amountToPay: '16.80',
    });
    expect(proration!.lines.map((l) => l.amount)).toEqual(['14.12']);
    expect(proration!.number).toMatch(/^2027\//);

    // The payment goes to Tryton; the invoice is paid there, and billing hears of it (payment.applied).
    const paid = await send('finance.RecordPayment', {
      input: {
        invoiceId: amendment.invoice.id,
        amount: { amount: '16.80', currency: 'USD' },
        receivedOn: '2027-03-10',
        reference: 'WIRE 2027-1',
        idempotencyKey: unique('pay'),
      },
    });
    expect(paid.recordPayment.userErrors).toEqual([]);
    expect(paid.recordPayment.payment.invoice.amountDue.amount).toBe('0.00');
    expect(await trytonInvoice(amendment.invoice.id)).toMatchObject({ state: 'paid', amountToPay: '0.00' });
    await waitFor(
      async () => {
        const nodes = (await send('portal.CustomerToCash', { customerId })).customer.subscriptions[0].invoices
          .nodes;
        return nodes.find((n: any) => n.id === amendment.invoice.id)?.status === 'PAID';
      },
      20_000,
      "billing to mark the invoice PAID after Tryton's payment",
    );

    // An accountant pays the first invoice directly in Tryton: change capture brings it back as a
    // payment in the ERP subgraph, and billing marks the invoice PAID (payment.applied).
    const firstInTryton = await trytonInvoice(first.id);
    await payInTryton(tryton, firstInTryton!.id, '2027-03-10');
    expect(await trytonInvoice(first.id)).toMatchObject({ state: 'paid', amountToPay: '0.00' });
    const flowedBack = await waitFor(
      async () => {
        const nodes = (await send('portal.CustomerToCash', { customerId })).customer.subscriptions[0].invoices
          .nodes;
        const invoice = nodes.find((n: any) => n.id === first.id);
        return invoice?.status === 'PAID' ? invoice : undefined;
      },
      20_000,
      'the payment entered in Tryton to flow back and billing to mark the first invoice PAID',
    );
    expect(flowedBack.amountDue).toEqual({ amount: '0.00', currency: 'USD' });

    // Reconciliation compares billing with what is really in Tryton: clean; and still clean when
    // the ERP subgraph's own mirror drifts (a cent added to its copy of the first invoice), because
    // the ERP's facts are read from Tryton — the built-in ledger would report AMOUNT_MISMATCH.
    const clean = await reconcile();
    expect(clean.stdout).toMatch(/no differences/i);
    expect(clean.code).toBe(0);
    await sql`update finance.receivable set total_minor = total_minor + 1 where invoice_id = ${first.id}`.execute(
      stack.database.db,
    );
    const stillClean = await reconcile();
    expect(stillClean.code).toBe(0);

    // The view's amount due is Tryton's too: with the mirror's copy drifted to 9.99 still to pay,
    // the portal shows what Tryton holds (0.00, paid there), read in one batched call.
    await sql`update finance.receivable set amount_due_minor = 999 where invoice_id = ${first.id}`.execute(
      stack.database.db,
    );
    const fromTryton = (await send('portal.CustomerToCash', { customerId })).customer.subscriptions[0]
      .invoices.nodes;
    expect(fromTryton.find((n: any) => n.id === first.id)?.amountDue).toEqual({
      amount: '0.00',
      currency: 'USD',
    });
  }, 120_000);
});
