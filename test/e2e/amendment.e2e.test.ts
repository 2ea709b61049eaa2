import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { fixedClock, graphql, unique, waitFor } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
import type { Stack } from '@c2c/apps/stack';
import { aSyncedSubscription as syncedSubscription } from '../support/scenarios.ts';
import { startTestStack } from '../support/stack.ts';

// Amendments as managed business transactions, through the gateway: billing prorates and invoices,
// the ERP posts, the CRM updates the contract value, and the amendment's status follows each step.
// Every request is a registered client operation from schema/operations/, sent unchanged.

let stack: Stack;
const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const clock = fixedClock('2026-03-10T12:00:00Z');
/** Three attempts a few milliseconds apart, so a failing consumer dead-letters within the test. */
const RETRY = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 };

async function send<T = any>(
  name: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<T> {
  const result = await graphql(stack.gatewayUrl, operation(name), variables, headers);
  if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

/** A customer with a 9.95 USD/seat/month subscription on [2026-03-01, 2026-04-01), synced to the CRM and ERP. */
const aSyncedSubscription = (seats: number) => syncedSubscription(send, seats, { timeoutMs: 15_000 });

const amendmentStatus = async (id: string) => (await send('support.AmendmentStatus', { id })).amendment;
const untilStatus = (id: string, status: string) =>
  waitFor(
    async () => {
      const amendment = await amendmentStatus(id);
      return amendment.status === status ? amendment : undefined;
    },
    20_000,
    `amendment ${id} to be ${status}`,
  );

beforeAll(async () => {
  stack = await startTestStack({
    clock,
    retry: RETRY,
  });
});
afterAll(() => stack?.stop());

describe('amendments through the gateway', () => {
  it('prorates, posts in the ERP, updates the CRM contract value and reaches COMPLETED', async () => {
    const { customerId, subscriptionId } = await aSyncedSubscription(3);
    const correlationId = `support-${randomUUID()}`;
    const data = await send(
      'support.AmendSubscription',
      {
        input: {
          subscriptionId,
          seats: 5,
          effectiveDate: '2026-03-10',
          expectedVersion: 1,
          idempotencyKey: unique('amend'),
          reason: 'two new hires',
        },
      },
      { 'x-correlation-id': correlationId },
    );
    const payload = data.amendSubscription;
    expect(payload.userErrors).toEqual([]);
    // Proration: 2 × 9.95 × 22/31 = 14.122… → 14.12; German VAT 19%: 2.6828 → 2.68.
    // The payload reads the amendment after commit: the ERP and CRM may already have acknowledged.
    expect(['INVOICED', 'POSTED', 'COMPLETED']).toContain(payload.amendment.status);
    expect(payload).toMatchObject({
      amendment: {
        correlationId,
        effectiveDate: '2026-03-10',
        seatsBefore: 3,
        seatsAfter: 5,
        proration: { amount: '14.12', currency: 'USD' },
        invoice: { total: { amount: '16.80', currency: 'USD' } },
        creditNote: null,
      },
      subscription: { id: subscriptionId, seats: 5, version: 2 },
    });
    const amendmentId = payload.amendment.id;
    const invoiceId = payload.amendment.invoice.id;

    const completed = await untilStatus(amendmentId, 'COMPLETED');
    expect(completed).toMatchObject({
      id: amendmentId,
      correlationId,
      subscription: {
        id: subscriptionId,
        seats: 5,
        // CRM: 5 seats × 9.95 × 12 months.
        customer: { id: customerId, contractValue: { amount: '597.00', currency: 'USD' } },
      },
    });
    expect(completed.steps).toEqual([
      { system: 'BILLING', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
      { system: 'ERP', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
      { system: 'CRM', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
    ]);

    // The ERP posted the proration invoice: receivable, journal entry, amount due.
    const view = (await send('portal.CustomerToCash', { customerId })).customer;
    const posted = view.subscriptions[0].invoices.nodes.find((n: any) => n.id === invoiceId);
    expect(posted).toMatchObject({
      kind: 'INVOICE',
      total: { amount: '16.80', currency: 'USD' },
      amountDue: { amount: '16.80', currency: 'USD' },
      posting: { status: 'POSTED', journalEntryId: expect.any(String) },
    });

    // The request's correlation id is on every event of the workflow, in all three subgraphs.
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
    expect(await eventsOf('subscription')).toEqual(['subscription.amended', 'invoice.issued']);
    expect(await eventsOf('finance')).toEqual(['invoice.posted']);
    expect(await eventsOf('customer')).toEqual(['contract.synced']);
  });

  it('previews through the gateway exactly what the amendment then issues (support.PreviewAmendment)', async () => {
    const { subscriptionId } = await aSyncedSubscription(2);
    const input = { subscriptionId, seats: 4, effectiveDate: '2026-03-20' };
    const { previewAmendment } = await send('support.PreviewAmendment', { input });
    // 2 × 9.95 × 12/31 = 7.703… → 7.70; VAT 1.463 → 1.46.
    expect(previewAmendment).toMatchObject({
      documentKind: 'INVOICE',
      lines: [
        { quantity: 2, periodStart: '2026-03-20', periodEnd: '2026-04-01', amount: { amount: '7.70' } },
      ],
      subtotal: { amount: '7.70', currency: 'USD' },
      tax: { amount: '1.46', currency: 'USD' },
      total: { amount: '9.16', currency: 'USD' },
      userErrors: [],
    });
    const { amendSubscription } = await send('support.AmendSubscription', {
      input: { ...input, idempotencyKey: unique('amend') },
    });
    expect(amendSubscription.amendment.invoice.total).toEqual(previewAmendment.total);
  });

  it('shows EXCEPTION at CRM with attempts and the error when the CRM consumer fails, and completes after replay', async () => {
    const { customerId, subscriptionId } = await aSyncedSubscription(2);
    // Plant a failing condition in the CRM's database: its contract line of this subscription
    // refuses every write, as a locked or broken table would.
    const fn = `fail_${randomUUID().replace(/-/g, '')}`;
    await sql
      .raw(
        `create function customer.${fn}() returns trigger language plpgsql as $$
         begin raise exception 'contract_line of % is locked', new.subscription_id; end $$;
         create trigger ${fn} before update on customer.contract_line for each row
         when (new.subscription_id = '${subscriptionId}') execute function customer.${fn}();`,
      )
      .execute(stack.database.db);

    const data = await send('support.AmendSubscription', {
      input: { subscriptionId, seats: 1, effectiveDate: '2026-03-20', idempotencyKey: unique('amend') },
    });
    const payload = data.amendSubscription;
    expect(payload.userErrors).toEqual([]);
    // A decrease: 9.95 × 12/31 = 3.851… → −3.85 credited, VAT −0.7315 → −0.73.
    expect(payload.amendment).toMatchObject({
      proration: { amount: '-3.85', currency: 'USD' },
      invoice: null,
      creditNote: { total: { amount: '-4.58', currency: 'USD' } },
    });
    const amendmentId = payload.amendment.id;

    const failed = await untilStatus(amendmentId, 'EXCEPTION');
    expect(failed.steps).toEqual([
      { system: 'BILLING', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
      expect.objectContaining({ system: 'ERP' }),
      {
        system: 'CRM',
        status: 'FAILED',
        attempts: RETRY.maxAttempts,
        lastError: expect.stringContaining(`contract_line of ${subscriptionId} is locked`),
        completedAt: null,
      },
    ]);
    // The ERP keeps going: the credit note is posted while the CRM step waits for a replay.
    const posted = await waitFor(
      async () => {
        const amendment = await amendmentStatus(amendmentId);
        return amendment.steps[1].status === 'DONE' ? amendment : undefined;
      },
      20_000,
      'the ERP step',
    );
    expect(posted.status).toBe('EXCEPTION');
    expect(posted.subscription.customer.contractValue).toEqual({ amount: '238.80', currency: 'USD' });

    // The operator sees the dead letter among every system's, in one request through the gateway.
    const letters = (await send('ops.DeadLetters', {})) as Record<'crm' | 'billing' | 'erp', any[]>;
    const letter = letters.crm.find((l) => l.subject === subscriptionId);
    expect(letter).toMatchObject({
      consumer: 'customer.contract-value',
      eventType: 'subscription.amended',
      attempts: RETRY.maxAttempts,
      replayedAt: null,
      error: expect.stringContaining('is locked'),
    });
    expect(letters.erp.filter((l) => l.subject === subscriptionId)).toEqual([]);

    // Fix the cause, then replay it with the command an operator runs — twice: the effect happens once.
    await sql.raw(`drop trigger ${fn} on customer.contract_line`).execute(stack.database.db);
    const token = await stack.token('finance');
    const replay = () =>
      execFileAsync(
        process.execPath,
        [
          '--import',
          'tsx',
          'cli/c2c.ts',
          'replay',
          '--system',
          'CRM',
          '--id',
          letter.id,
          '--url',
          stack.gatewayUrl,
          '--token',
          token,
        ],
        { cwd: ROOT },
      );
    expect((await replay()).stdout).toContain(`CRM #${letter.id}: applied`);
    expect((await replay()).stdout).toContain(`CRM #${letter.id}: already applied`);

    const completed = await untilStatus(amendmentId, 'COMPLETED');
    expect(completed.steps[2]).toMatchObject({
      system: 'CRM',
      status: 'DONE',
      attempts: RETRY.maxAttempts + 1,
      completedAt: expect.any(String),
    });
    expect(completed.subscription.customer).toEqual({
      id: customerId,
      name: expect.any(String),
      contractValue: { amount: '119.40', currency: 'USD' }, // 1 seat × 9.95 × 12
    });
  });
});

describe('renewals through the gateway', () => {
  it('records a renewal as a RENEWAL amendment that the ERP and the CRM drive to COMPLETED', async () => {
    const { customerId, subscriptionId } = await aSyncedSubscription(2);
    // A seat change scheduled for the renewal: the renewal applies it, bills it and syncs it.
    const scheduled = await send('support.AmendSubscription', {
      input: { subscriptionId, seats: 4, effectiveDate: '2026-04-01', idempotencyKey: unique('amend') },
    });
    expect(scheduled.amendSubscription.userErrors).toEqual([]);

    const correlationId = `billing-run-${randomUUID()}`;
    const run = await send(
      'billing.RenewSubscriptions',
      { asOf: '2026-04-01', idempotencyKey: unique('run') },
      { 'x-correlation-id': correlationId },
    );
    expect(run.renewSubscriptions.userErrors).toEqual([]);
    expect(run.renewSubscriptions.renewedCount).toBeGreaterThanOrEqual(1);

    // The run's payload is a summary; the renewal's id is read where the support tool lists it.
    const renewals = await stack.database.db
      .withSchema('subscription')
      .selectFrom('amendment')
      .select(['id', 'invoice_id'])
      .where('subscription_id', '=', subscriptionId)
      .where('kind', '=', 'RENEWAL')
      .execute();
    expect(renewals).toEqual([{ id: expect.any(String), invoice_id: expect.any(String) }]);
    const [renewal] = renewals;

    const completed = await untilStatus(renewal!.id, 'COMPLETED');
    expect(completed).toMatchObject({
      id: renewal!.id,
      correlationId,
      subscription: {
        id: subscriptionId,
        seats: 4,
        // CRM: 4 seats × 9.95 × 12 months.
        customer: { id: customerId, contractValue: { amount: '477.60', currency: 'USD' } },
      },
    });
    expect(completed.steps).toEqual([
      { system: 'BILLING', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
      { system: 'ERP', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
      { system: 'CRM', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) },
    ]);

    // The ERP posted the period invoice: 4 × 9.95 = 39.80 + 19% VAT 7.56.
    const view = (await send('portal.CustomerToCash', { customerId })).customer;
    expect(view.subscriptions[0].invoices.nodes.find((n: any) => n.id === renewal!.invoice_id)).toMatchObject(
      {
        kind: 'INVOICE',
        issuedOn: '2026-04-01',
        total: { amount: '47.36', currency: 'USD' },
        posting: { status: 'POSTED', journalEntryId: expect.any(String) },
      },
    );

    // The run's correlation id is on the renewal's events in all three subgraphs.
    const eventsOf = async (schema: string, subjects: string[]) =>
      (
        await stack.database.db
          .withSchema(schema)
          .selectFrom('outbox')
          .select(['type', 'data'])
          .where('correlation_id', '=', correlationId)
          .where('subject', 'in', subjects)
          .orderBy('seq')
          .execute()
      ).map((row) => {
        const data = (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as {
          amendmentId?: string;
        };
        return [row.type, data.amendmentId ?? null];
      });
    const subjects = [subscriptionId, renewal!.invoice_id!];
    expect(await eventsOf('subscription', subjects)).toEqual([
      ['subscription.renewed', renewal!.id],
      ['invoice.issued', renewal!.id],
    ]);
    expect(await eventsOf('finance', subjects)).toEqual([['invoice.posted', null]]);
    expect(await eventsOf('customer', subjects)).toEqual([['contract.synced', renewal!.id]]);
  });
});
