import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOnce, outboxRowToEvent, type CloudEvent } from '@c2c/platform/events';
import { graphql, waitFor } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
import type { Stack } from '@c2c/apps/stack';
import { checkInvariants, waitForQuiescence } from './invariants.ts';
import {
  amend,
  amendmentStatus,
  aSyncedSubscription,
  consumerOf,
  RETRY,
  send,
  startFaultStack,
  untilStatus,
} from './support.ts';

// Faults of the embedded shape, in one process: one stack (gateway, three subgraphs, the in-database
// bus) on a fresh database — PGlite in memory, or a new PostgreSQL database when DATABASE_URL is set.
// The tests share the stack to keep the suite fast; each leaves the book quiescent and ends by
// checking the invariants over the whole book (invariants.ts), so each sees every earlier test's
// data too. Crashes of a real process are in crash.e2e.test.ts.

const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
let stack: Stack;
beforeAll(async () => {
  stack = await startFaultStack();
});
afterAll(() => stack?.stop());

/** The events billing appended for an amendment, as CloudEvents. */
async function eventsOf(amendmentId: string): Promise<CloudEvent[]> {
  const rows = await stack.database.db
    .withSchema('subscription')
    .selectFrom('outbox')
    .selectAll()
    .where(sql<boolean>`data->>'amendmentId' = ${amendmentId}`)
    .orderBy('seq')
    .execute();
  return rows.map((row) => outboxRowToEvent(row as never));
}

const count = async (query: ReturnType<typeof sql<{ n: number }>>) =>
  (await query.execute(stack.database.db)).rows[0]?.n;

/** `npm run c2c -- replay …` against this stack's gateway, as an operator runs it. */
async function replay(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(
    'npm',
    [
      'run',
      '--silent',
      'c2c',
      '--',
      'replay',
      '--system',
      'ERP',
      ...args,
      '--url',
      stack.gatewayUrl,
      '--token',
      await stack.token('finance'),
    ],
    { cwd: ROOT },
  );
  return stdout;
}

// F4: the ERP (finance subgraph: server, relay and consumers) is down while support issues
// amendments. Billing accepts every one — finance is downstream and asynchronous — and the events
// wait in the bus; once finance is back each document is posted exactly once.
describe('finance down while amendments are issued', () => {
  it('accepts every amendment, and posts each exactly once when finance is back', async () => {
    const url = stack.gatewayUrl;
    const first = await aSyncedSubscription(url, 3);
    const second = await aSyncedSubscription(url, 10, 'FR');

    await stack.stopSubgraph('finance');

    // Increases and decreases on two subscriptions, two of them on the same subscription.
    const issued = [
      await amend(url, { subscriptionId: first.subscriptionId, seats: 5, effectiveDate: '2026-03-10' }),
      await amend(url, { subscriptionId: first.subscriptionId, seats: 4, effectiveDate: '2026-03-15' }),
      await amend(url, { subscriptionId: second.subscriptionId, seats: 12, effectiveDate: '2026-03-11' }),
      await amend(url, { subscriptionId: second.subscriptionId, seats: 7, effectiveDate: '2026-03-20' }),
      await amend(url, { subscriptionId: second.subscriptionId, seats: 9, effectiveDate: '2026-03-25' }),
    ];
    const ids = issued.map((p) => p.amendment.id as string);
    expect(issued.map((p) => [p.amendment.invoice !== null, p.amendment.creditNote !== null])).toEqual([
      [true, false],
      [false, true],
      [true, false],
      [false, true],
      [true, false],
    ]);

    // While the ERP is down: the CRM step completes, the ERP step waits; nothing is dead-lettered.
    for (const id of ids) {
      const amendment = await untilStatus(url, id, 'INVOICED');
      expect(amendment.steps.map((s: any) => s.system + ':' + s.status)).toEqual([
        'BILLING:DONE',
        'ERP:PENDING',
        expect.stringMatching(/^CRM:(PENDING|DONE)$/),
      ]);
    }
    const waiting = await sql<{ n: number }>`
      select count(*)::int as n from bus.delivery d join bus.message m on m.seq = d.message_seq
      where d.consumer = 'finance.billing' and d.state = 'pending'
        and m.type in ('invoice.issued', 'creditnote.issued')`.execute(stack.database.db);
    expect(waiting.rows[0]?.n, 'the five documents wait for finance in the bus').toBe(5);
    // A portal query keeps billing's and the CRM's data and nulls only what the ERP owns.
    const partial = await graphql(url, operation('portal.CustomerToCash'), { customerId: first.customerId });
    expect(partial.data?.customer).toMatchObject({ id: first.customerId, receivable: null });
    expect(partial.errors?.[0]?.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
    expect(JSON.stringify(partial.errors)).not.toMatch(/127\.0\.0\.1|localhost|http:/);

    await stack.startSubgraph('finance');

    for (const id of ids) {
      const completed = await untilStatus(url, id, 'COMPLETED');
      // Delivered once, at the first attempt after the restart: the outage cost no retries.
      expect(completed.steps[1]).toMatchObject({
        system: 'ERP',
        status: 'DONE',
        attempts: 1,
        lastError: null,
      });
    }
    expect((await amendmentStatus(url, ids[4]!)).subscription.seats).toBe(9);
    await waitForQuiescence(stack.database.db);
    await checkInvariants(stack.database.db, { acknowledged: ids });
  });
});

// F9: the same event arrives again — re-sent by a relay that crashed before marking it, redelivered
// by the bus, or applied by hand. Every copy after the first is a no-op: no second receivable,
// journal entry, contract update or acknowledgement.
describe('duplicate delivery', () => {
  it('applies an already delivered event once, however it comes again', async () => {
    const url = stack.gatewayUrl;
    const { subscriptionId } = await aSyncedSubscription(url, 3);
    const { amendment } = await amend(url, { subscriptionId, seats: 6, effectiveDate: '2026-03-12' });
    await untilStatus(url, amendment.id, 'COMPLETED');
    await waitForQuiescence(stack.database.db);
    const events = await eventsOf(amendment.id);
    expect(events.map((e) => e.type)).toEqual(['subscription.amended', 'invoice.issued']);
    const issued = events[1]!;
    const invoiceId = (issued.data as { id: string }).id;
    const messagesBefore = await count(sql`select count(*)::int as n from bus.message`);

    // 1. The relay publishes the same CloudEvents again (a crash between publish and mark): the bus
    //    keeps one message per event id, so no consumer gets a second delivery.
    await stack.transport.publish(events);
    await stack.transport.publish(events);
    expect(await count(sql`select count(*)::int as n from bus.message`)).toBe(messagesBefore);

    // 2. The bus delivers it again anyway (a consumer crashed before its ack): the running
    //    finance.billing and customer.contract-value consumers find their inbox rows and do nothing.
    const redeliver = sql`
      update bus.delivery set state = 'pending', next_attempt_at = now()
      where message_seq in (select seq from bus.message where id in (${issued.id}, ${events[0]!.id}))`;
    const redelivered = await redeliver.execute(stack.database.db);
    expect(Number(redelivered.numAffectedRows)).toBeGreaterThanOrEqual(3);
    await waitFor(
      async () =>
        (await count(sql`
          select count(*)::int as n from bus.delivery d join bus.message m on m.seq = d.message_seq
          where m.id in (${issued.id}, ${events[0]!.id}) and (d.state <> 'done' or d.attempts < 2)`)) === 0,
      15_000,
      'the redeliveries to be acknowledged',
    );

    // 3. A fresh delivery of the same event id straight through the platform's applyOnce.
    expect(await applyOnce(consumerOf(stack.database.db, 'finance', 'finance.billing'), issued)).toBe(false);
    expect(
      await applyOnce(consumerOf(stack.database.db, 'customer', 'customer.contract-value'), events[0]!),
    ).toBe(false);

    expect(
      await count(sql`select count(*)::int as n from finance.receivable where invoice_id = ${invoiceId}`),
    ).toBe(1);
    expect(
      await count(sql`select count(*)::int as n from finance.journal_entry where source_id = ${invoiceId}`),
    ).toBe(1);
    expect(
      await count(sql`select count(*)::int as n from finance.outbox where causation_id = ${issued.id}`),
      'one invoice.posted',
    ).toBe(1);
    expect(
      await count(sql`select count(*)::int as n from customer.outbox where causation_id = ${events[0]!.id}`),
      'one contract.synced',
    ).toBe(1);
    await waitForQuiescence(stack.database.db);
    await checkInvariants(stack.database.db, { acknowledged: [amendment.id] });
  });

  it('the invariants do catch a second ledger effect (the check is not vacuous)', async () => {
    const db = stack.database.db;
    const [receivable] = (
      await sql<{ invoice_id: string }>`select invoice_id from finance.receivable limit 1`.execute(db)
    ).rows;
    const planted = new Error('rolled back');
    // Plant a duplicate journal entry inside a transaction, check, and roll it back.
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`insert into finance.journal_entry (id, entry_date, memo, source_type, source_id)
          select gen_random_uuid(), entry_date, memo, source_type, source_id from finance.journal_entry
          where source_id = ${receivable!.invoice_id}`.execute(trx);
        await expect(checkInvariants(trx, { acknowledged: [] })).rejects.toThrow(/journal entry/);
        throw planted;
      }),
    ).rejects.toBe(planted);
    await checkInvariants(db, { acknowledged: [] });
  });
});

// F10: a poison event — the ERP cannot post one customer's invoice, whatever it tries. It is retried,
// dead-lettered, and the amendment shows EXCEPTION at ERP; everything else keeps flowing. After the
// cause is removed, the operator's replay applies it exactly once, however often it is run.
describe('a poison event', () => {
  it('is dead-lettered without stopping other events, and replayed exactly once after the fix', async () => {
    const url = stack.gatewayUrl;
    const poisoned = await aSyncedSubscription(url, 2);
    const healthy = await aSyncedSubscription(url, 2);
    // The ERP refuses every receivable of this one subscription, as a broken rule or table would.
    const fn = `poison_${randomUUID().replace(/-/g, '')}`;
    await sql
      .raw(
        `create function finance.${fn}() returns trigger language plpgsql as $$
         begin raise exception 'receivable of subscription % refused', new.subscription_id; end $$;
         create trigger ${fn} before insert on finance.receivable for each row
         when (new.subscription_id = '${poisoned.subscriptionId}') execute function finance.${fn}();`,
      )
      .execute(stack.database.db);

    const bad = await amend(url, {
      subscriptionId: poisoned.subscriptionId,
      seats: 4,
      effectiveDate: '2026-03-10',
    });
    const good = await amend(url, {
      subscriptionId: healthy.subscriptionId,
      seats: 5,
      effectiveDate: '2026-03-10',
    });

    const failed = await untilStatus(url, bad.amendment.id, 'EXCEPTION');
    expect(failed.steps).toEqual([
      expect.objectContaining({ system: 'BILLING', status: 'DONE' }),
      {
        system: 'ERP',
        status: 'FAILED',
        attempts: RETRY.maxAttempts,
        lastError: expect.stringContaining(`receivable of subscription ${poisoned.subscriptionId} refused`),
        completedAt: null,
      },
      expect.objectContaining({ system: 'CRM' }),
    ]);
    // Other customers' events keep flowing: the healthy invoice posts and its amendment completes.
    await untilStatus(url, good.amendment.id, 'COMPLETED');

    const letters = (await send(url, 'ops.DeadLetters', {})) as Record<'crm' | 'billing' | 'erp', any[]>;
    expect(letters.erp).toEqual([
      expect.objectContaining({
        consumer: 'finance.billing',
        eventType: 'invoice.issued',
        subject: bad.amendment.invoice.id,
        attempts: RETRY.maxAttempts,
        replayedAt: null,
      }),
    ]);
    expect([...letters.crm, ...letters.billing]).toEqual([]);
    // Dead, not stuck: I2 says a document ends in one posting xor one dead letter.
    await waitForQuiescence(stack.database.db);
    await expect(
      checkInvariants(stack.database.db, { acknowledged: [], openDeadLetters: 1 }),
    ).rejects.toThrow(/one receivable, one journal entry/);

    // A replay before the fix fails again, records the attempt, and leaves the letter waiting.
    expect(await replay('--all').catch((e: { stdout: string }) => e.stdout)).toMatch(
      new RegExp(`ERP #${letters.erp[0].id}: FAILED — .*refused`),
    );
    const again = (await send(url, 'ops.DeadLetters', {})) as Record<'erp', any[]>;
    expect(again.erp).toEqual([
      expect.objectContaining({ id: letters.erp[0].id, attempts: RETRY.maxAttempts + 1, replayedAt: null }),
    ]);

    // Remove the cause, then replay — twice, and once more by id: applied once.
    await sql.raw(`drop trigger ${fn} on finance.receivable`).execute(stack.database.db);
    expect(await replay('--all')).toContain(`ERP #${letters.erp[0].id}: applied`);
    expect(await replay('--all')).toContain('No ERP dead letters waiting.');
    expect(await replay('--id', letters.erp[0].id)).toContain(
      `ERP #${letters.erp[0].id}: already applied (nothing ran twice)`,
    );

    const completed = await untilStatus(url, bad.amendment.id, 'COMPLETED');
    expect(completed.steps[1]).toMatchObject({
      system: 'ERP',
      status: 'DONE',
      // The failed deliveries and the successful replay (docs/events.md); the failed replay is
      // counted on the dead letter only.
      attempts: RETRY.maxAttempts + 1,
      completedAt: expect.any(String),
    });
    expect((await amendmentStatus(url, good.amendment.id)).status).toBe('COMPLETED');
    await waitForQuiescence(stack.database.db);
    await checkInvariants(stack.database.db, { acknowledged: [bad.amendment.id, good.amendment.id] });
  });
});

// F15: events of one aggregate arrive out of order at the CRM. The bus keeps a subject's order,
// so the test forces the swap: with the CRM down, two amendments of one subscription wait in the
// bus; version N+1 is then applied before version N through the consumer's own applyOnce. The
// CRM keeps the newest version (a stale version is acknowledged, never applied), and the waiting
// deliveries find their inbox rows when the CRM comes back.
describe('out-of-order events of one aggregate', () => {
  it('ends with the newest version’s contract value', async () => {
    const url = stack.gatewayUrl;
    const { customerId, subscriptionId } = await aSyncedSubscription(url, 3);

    await stack.stopSubgraph('customer');
    const older = await amend(url, {
      subscriptionId,
      seats: 8,
      effectiveDate: '2026-03-10',
      expectedVersion: 1,
    });
    const newer = await amend(url, {
      subscriptionId,
      seats: 6,
      effectiveDate: '2026-03-12',
      expectedVersion: 2,
    });
    expect([older.subscription.version, newer.subscription.version]).toEqual([2, 3]);

    const rows = await stack.database.db
      .withSchema('subscription')
      .selectFrom('outbox')
      .selectAll()
      .where('type', '=', 'subscription.amended')
      .where('subject', '=', subscriptionId)
      .orderBy('aggregate_version')
      .execute();
    const [v2, v3] = rows.map((row) => outboxRowToEvent(row as never));
    expect([v2?.aggregateversion, v3?.aggregateversion]).toEqual([2, 3]);

    const crm = consumerOf(stack.database.db, 'customer', 'customer.contract-value');
    expect(await applyOnce(crm, v3!)).toBe(true);
    // The stale version is recorded in the inbox and acknowledged, but changes nothing.
    expect(await applyOnce(crm, v2!)).toBe(true);
    const line = await sql<{ source_version: number; annual_value_minor: number }>`
      select source_version, annual_value_minor from customer.contract_line
      where subscription_id = ${subscriptionId}`.execute(stack.database.db);
    expect(line.rows).toEqual([{ source_version: 3, annual_value_minor: 6 * 995 * 12 }]);

    // The CRM comes back: its pending deliveries of v2 and v3 are no-ops, its outbox sends both
    // acknowledgements, and both amendments complete.
    await stack.startSubgraph('customer');
    await untilStatus(url, older.amendment.id, 'COMPLETED');
    await untilStatus(url, newer.amendment.id, 'COMPLETED');
    const view = (await send(url, 'portal.CustomerToCash', { customerId })).customer;
    // 6 seats × 9.95 × 12 months — version 3's value, not version 2's 8 seats.
    expect(view.contractValue).toEqual({ amount: '716.40', currency: 'USD' });
    expect(view.subscriptions[0]).toMatchObject({ seats: 6, version: 3 });
    const acknowledgements = await sql<{ version: number }>`
      select (data->>'subscriptionVersion')::int as version from customer.outbox
      where type = 'contract.synced' and subject = ${subscriptionId} order by version`.execute(
      stack.database.db,
    );
    expect(acknowledgements.rows.map((r) => r.version)).toEqual([1, 2, 3]);

    await waitForQuiescence(stack.database.db);
    await checkInvariants(stack.database.db, { acknowledged: [older.amendment.id, newer.amendment.id] });
  });
});
