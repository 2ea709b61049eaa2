import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixedClock, waitFor } from '@c2c/platform/testing';
import type { ReconciliationReport } from '../../cli/commands/reconcile.ts';
import { seedDemoBook } from '@c2c/apps/seed';
import type { Stack } from '@c2c/apps/stack';
import { startTestStack } from '../support/stack.ts';

// Reconciliation as an operator runs it: `npm run c2c -- reconcile` against the gateway of a seeded
// book. Clean, it finds nothing; after differences are planted behind the systems' backs with SQL,
// it names exactly those documents and that customer.

let stack: Stack;
let token = '';
const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const clock = fixedClock('2026-03-10T12:00:00Z');

/** Runs the reconcile command in a child process: its exit code and output. */
async function reconcile(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', 'cli/c2c.ts', 'reconcile', '--url', stack.gatewayUrl, '--token', token, ...args],
      { cwd: ROOT },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function json(...args: string[]): Promise<{ code: number; report: ReconciliationReport }> {
  const { code, stdout, stderr } = await reconcile('--json', ...args);
  if (!stdout) throw new Error(`reconcile printed nothing (exit ${code}): ${stderr}`);
  return { code, report: JSON.parse(stdout) as ReconciliationReport };
}

/** Every committed event relayed and consumed: the ERP has posted everything, the CRM has every value. */
async function quiet(): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`
    select (select count(*) from bus.delivery where state = 'pending')
         + (select count(*) from customer.outbox where published_at is null)
         + (select count(*) from subscription.outbox where published_at is null)
         + (select count(*) from finance.outbox where published_at is null)
         + (select count(*) from subscription.invoice where posting_status <> 'POSTED') as n`.execute(
    stack.database.db,
  );
  return Number(rows[0]?.n) === 0;
}

beforeAll(async () => {
  stack = await startTestStack({
    clock,
  });
  token = await stack.token('finance');
  await seedDemoBook({
    gatewayUrl: stack.gatewayUrl,
    customers: 12,
    today: '2026-03-10',
    headers: { authorization: `Bearer ${await stack.token('admin')}` },
  });
  await waitFor(quiet, 60_000, 'the ERP and the CRM to catch up with billing');
});
afterAll(() => stack?.stop());

describe('npm run c2c -- reconcile', () => {
  it('reports no differences on the seeded book, then exactly the documents and the customer planted', async () => {
    const clean = await reconcile();
    expect(clean.stdout).toContain('Reconciled: no differences');
    expect(clean.code).toBe(0);
    const { report: cleanReport } = await json();
    expect(cleanReport).toMatchObject({
      differences: 0,
      buckets: [],
      documents: [],
      contractValues: [],
      contractValuesCompared: 12,
      stuckAmendments: { totalCount: 0 },
      backlog: [],
    });
    expect(cleanReport.bucketsCompared).toBeGreaterThan(10);

    // Plant differences behind the systems' backs.
    const db = stack.database.db;
    const { rows: invoices } = await sql<{ id: string; number: string }>`
      select id, number from subscription.invoice where kind = 'INVOICE' order by number limit 3`.execute(db);
    const [lost, changed, template] = invoices as [
      { id: string; number: string },
      { id: string; number: string },
      { id: string; number: string },
    ];
    // 1. The ledger row of one invoice is deleted (with what hangs on it): the ERP never posted it.
    await sql`delete from finance.payment where invoice_id = ${lost.id}`.execute(db);
    await sql`delete from finance.revenue_schedule where invoice_id = ${lost.id}`.execute(db);
    await sql`delete from finance.receivable where invoice_id = ${lost.id}`.execute(db);
    // 2. One posted amount is changed by a cent.
    await sql`update finance.receivable set total_minor = total_minor + 1 where invoice_id = ${changed.id}`.execute(
      db,
    );
    // 3. The ERP holds a posting of a document billing never issued. (Each planted document gets a
    //    bucket of its own: a ghost posting and an in-flight document of equal amounts in one bucket
    //    would compensate in the control totals — see docs/operations.md.)
    const ghostId = randomUUID();
    await sql`
      insert into finance.receivable (invoice_id, number, kind, customer_id, subscription_id, business_unit, currency,
        issued_on, due_on, subtotal_minor, tax_minor, total_minor, amount_due_minor, posting_status, posted_at)
      select ${ghostId}, 'INV-GHOST', kind, customer_id, subscription_id, business_unit, currency, '2024-01-15', due_on,
        subtotal_minor, tax_minor, total_minor, total_minor, 'POSTED', now()
      from finance.receivable where invoice_id = ${template.id}`.execute(db);
    // 4. One CRM contract value is changed.
    const { rows: customers } = await sql<{ id: string; name: string }>`
      select id, name from customer.customer where contract_value_minor > 0 order by id limit 1`.execute(db);
    const customer = customers[0]!;
    await sql`update customer.customer set contract_value_minor = contract_value_minor + 100 where id = ${customer.id}`.execute(
      db,
    );
    // 5. Billing issues a document the ERP has not received yet: in flight, not a difference.
    const freshId = randomUUID();
    await sql`
      insert into subscription.invoice (id, number, kind, customer_id, subscription_id, business_unit, currency,
        issued_on, due_on, subtotal_minor, tax_minor, total_minor, tax_rate_missing)
      select ${freshId}, 'INV-FRESH', kind, customer_id, subscription_id, business_unit, currency, '2026-03-10', due_on,
        subtotal_minor, tax_minor, total_minor, tax_rate_missing
      from subscription.invoice where id = ${template.id}`.execute(db);

    const text = await reconcile();
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`UNPOSTED\\s+\\| ${lost.number} `));
    expect(text.stdout).toMatch(new RegExp(`AMOUNT_MISMATCH\\s+\\| ${changed.number} `));
    expect(text.stdout).toMatch(/POSTING_WITHOUT_INVOICE \| INV-GHOST /);
    expect(text.stdout).toContain(customer.id);
    expect(text.stdout).toContain('Reconciliation FAILED: 4 difference(s)');
    expect(text.stdout).not.toContain('INV-FRESH');

    const { code, report } = await json();
    expect(code).toBe(1);
    const byNumber = (a: { number: string }, b: { number: string }) => (a.number < b.number ? -1 : 1);
    expect(report.documents.map(({ kind, number, id }) => ({ kind, number, id })).sort(byNumber)).toEqual(
      [
        { kind: 'UNPOSTED', number: lost.number, id: lost.id },
        { kind: 'AMOUNT_MISMATCH', number: changed.number, id: changed.id },
        { kind: 'POSTING_WITHOUT_INVOICE', number: 'INV-GHOST', id: ghostId },
      ].sort(byNumber),
    );
    const mismatch = report.documents.find((d) => d.kind === 'AMOUNT_MISMATCH')!;
    expect(mismatch.billing).not.toEqual(mismatch.erp);
    expect(report.contractValues).toEqual([
      { customerId: customer.id, name: customer.name, billing: expect.any(String), crm: expect.any(String) },
    ]);
    expect(report.differences).toBe(4);
    expect(report.inFlight.count).toBe(1);
    expect(report.backlog.reduce((n, b) => n + b.pendingCount, 0)).toBe(1);

    // Without a grace period the fresh document is no longer in flight: it is unposted too.
    const strict = await json('--grace-minutes', '0');
    expect(
      strict.report.documents
        .filter((d) => d.kind === 'UNPOSTED')
        .map((d) => d.number)
        .sort(),
    ).toEqual(['INV-FRESH', lost.number].sort());
    expect(strict.report.differences).toBe(5);
  });

  it('answers usage errors with exit code 2 and --help with 0', async () => {
    expect((await reconcile('--from', '2026-13')).code).toBe(2);
    expect((await reconcile('--grace-minutes', 'soon')).code).toBe(2);
    expect((await reconcile('--bogus')).code).toBe(2);
    const help = await reconcile('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run c2c -- reconcile');
  });
});
