import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@c2c/platform/core';
import { applyBatch, applyOnce, type CloudEvent } from '@c2c/platform/events';
import { statementsSent, waitFor } from '@c2c/platform/testing';
import { buildFinanceSubgraph } from '../src/index.ts';
import { aCreditNote, aLine, anEvent, anInvoice } from './builders.ts';
import { startFinance, type FinanceHarness } from './harness.ts';

const POSTING = 'id posting { status journalEntryId postedAt error } amountDue { amount currency }';

describe('finance.billing consumer', () => {
  let h: FinanceHarness;
  beforeAll(async () => {
    h = await startFinance();
  });
  afterAll(() => h.close());

  /** The ERP's `finance.billing` consumer, to apply events to directly. */
  const consumerOptions = () => {
    const deps = {
      db: h.stack.database.db,
      log: silentLogger(),
      clock: h.clock,
      afterCommit: () => {},
      env: {},
    };
    const handlers = buildFinanceSubgraph(deps).consumers['finance.billing']!;
    return { db: deps.db, schema: 'finance', consumer: 'finance.billing', handlers, log: deps.log };
  };

  const linesOf = (entryId: string) =>
    h
      .finance()
      .selectFrom('journal_line')
      .select(['account', 'side', 'amount_minor', 'currency'])
      .where('entry_id', '=', entryId)
      .orderBy('line_no')
      .execute();

  it('posts an issued invoice: receivable, balanced entry, exact revenue schedule, invoice.posted', async () => {
    const invoice = anInvoice({}, [
      aLine(),
      aLine({ amountMinor: 99_999, taxMinor: 19_000, periodStart: '2026-01-15', periodEnd: '2027-01-15' }),
    ]);
    const event = await h.issue(invoice);

    const receivable = await h
      .finance()
      .selectFrom('receivable')
      .selectAll()
      .where('invoice_id', '=', invoice.id)
      .executeTakeFirstOrThrow();
    expect(receivable).toMatchObject({
      kind: 'INVOICE',
      currency: 'USD',
      subtotal_minor: 103_099,
      tax_minor: 19_589,
      total_minor: 122_688,
      amount_due_minor: 122_688,
      posting_status: 'POSTED',
      issued_on: '2026-01-15',
      due_on: '2026-02-14',
    });
    expect(await linesOf(receivable.journal_entry_id)).toEqual([
      { account: 'ACCOUNTS_RECEIVABLE', side: 'DEBIT', amount_minor: 122_688, currency: 'USD' },
      { account: 'DEFERRED_REVENUE', side: 'CREDIT', amount_minor: 103_099, currency: 'USD' },
      { account: 'TAX_PAYABLE', side: 'CREDIT', amount_minor: 19_589, currency: 'USD' },
    ]);
    const entry = await h
      .finance()
      .selectFrom('journal_entry')
      .selectAll()
      .where('id', '=', receivable.journal_entry_id)
      .executeTakeFirstOrThrow();
    expect(entry).toMatchObject({
      entry_date: '2026-01-15',
      source_type: 'INVOICE',
      source_id: invoice.id,
    });

    const schedule = await h
      .finance()
      .selectFrom('revenue_schedule')
      .select(['line_id', 'month', 'amount_minor'])
      .where('invoice_id', '=', invoice.id)
      .orderBy('line_id')
      .orderBy('month')
      .execute();
    expect(schedule.reduce((sum, row) => sum + Number(row.amount_minor), 0)).toBe(invoice.subtotalMinor);
    expect(schedule.filter((row) => row.line_id === invoice.lines[0]!.id)).toEqual([
      { line_id: invoice.lines[0]!.id, month: '2026-01', amount_minor: 1700 },
      { line_id: invoice.lines[0]!.id, month: '2026-02', amount_minor: 1400 },
    ]);
    expect(schedule.filter((row) => row.line_id === invoice.lines[1]!.id)).toHaveLength(13);

    const outbox = await h
      .finance()
      .selectFrom('outbox')
      .selectAll()
      .where('subject', '=', invoice.id)
      .execute();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      type: 'invoice.posted',
      source: 'finance',
      correlation_id: event.correlationid,
      causation_id: event.id,
    });
    const data = typeof outbox[0]!.data === 'string' ? JSON.parse(outbox[0]!.data) : outbox[0]!.data;
    expect(data).toEqual({
      invoiceId: invoice.id,
      journalEntryId: receivable.journal_entry_id,
      postedAt: '2026-03-10T12:00:00.000Z',
    });

    const [resolved] = await h.entities(`... on Invoice { ${POSTING} }`, [
      { __typename: 'Invoice', id: invoice.id },
    ]);
    expect(resolved).toEqual({
      id: invoice.id,
      posting: {
        status: 'POSTED',
        journalEntryId: receivable.journal_entry_id,
        postedAt: '2026-03-10T12:00:00.000Z',
        error: null,
      },
      amountDue: { amount: '1226.88', currency: 'USD' },
    });
  });

  it('shows an invoice the ERP has not received as PENDING with no amount due', async () => {
    const [pending, malformed] = await h.entities(`... on Invoice { ${POSTING} payments { id } }`, [
      { __typename: 'Invoice', id: randomUUID() },
      { __typename: 'Invoice', id: 'not-a-uuid' },
    ]);
    expect(pending).toMatchObject({
      posting: { status: 'PENDING', journalEntryId: null, postedAt: null, error: null },
      amountDue: null,
      payments: [],
    });
    expect(malformed).toMatchObject({ id: 'not-a-uuid', posting: { status: 'PENDING' }, amountDue: null });
  });

  it('applies an event published twice, or re-issued under a new event id, exactly once', async () => {
    const invoice = anInvoice();
    const event = anEvent('invoice.issued', invoice);
    await h.publish(event, event);
    await h.publish(event);
    await h.publish(anEvent('invoice.issued', invoice));
    expect(await h.count('receivable', { invoice_id: invoice.id })).toBe(1);
    expect(await h.count('journal_entry', { source_id: invoice.id })).toBe(1);
    expect(await h.count('revenue_schedule', { invoice_id: invoice.id })).toBe(2);
    expect(await h.count('outbox', { subject: invoice.id })).toBe(1);
  });

  it('applies a redelivered event once through the inbox', async () => {
    const options = consumerOptions();
    const invoice = anInvoice();
    const event = anEvent('invoice.issued', invoice);
    expect(await applyOnce(options, event)).toBe(true);
    expect(await applyOnce(options, event)).toBe(false);
    expect(await h.count('receivable', { invoice_id: invoice.id })).toBe(1);
    expect(await h.count('journal_entry', { source_id: invoice.id })).toBe(1);
    expect(await h.count('outbox', { subject: invoice.id })).toBe(1);
  });

  it('reverses a credit note: negative amount due, Cr AR / Dr Deferred Revenue / Dr Tax Payable, negative schedule', async () => {
    const note = aCreditNote();
    await h.issue(note);
    const receivable = await h
      .finance()
      .selectFrom('receivable')
      .selectAll()
      .where('invoice_id', '=', note.id)
      .executeTakeFirstOrThrow();
    expect(receivable).toMatchObject({
      kind: 'CREDIT_NOTE',
      total_minor: -954,
      amount_due_minor: -954,
      posting_status: 'POSTED',
    });
    expect(await linesOf(receivable.journal_entry_id)).toEqual([
      { account: 'ACCOUNTS_RECEIVABLE', side: 'CREDIT', amount_minor: 954, currency: 'USD' },
      { account: 'DEFERRED_REVENUE', side: 'DEBIT', amount_minor: 802, currency: 'USD' },
      { account: 'TAX_PAYABLE', side: 'DEBIT', amount_minor: 152, currency: 'USD' },
    ]);
    const schedule = await h
      .finance()
      .selectFrom('revenue_schedule')
      .select(['month', 'amount_minor'])
      .where('invoice_id', '=', note.id)
      .orderBy('month')
      .execute();
    // 26 days: January 12/26 of −8.02 = −3.70…, February takes the rest.
    expect(schedule).toEqual([
      { month: '2026-01', amount_minor: -370 },
      { month: '2026-02', amount_minor: -432 },
    ]);
    const [resolved] = await h.entities(`... on Invoice { amountDue { amount currency } }`, [
      { __typename: 'Invoice', id: note.id },
    ]);
    expect(resolved.amountDue).toEqual({ amount: '-9.54', currency: 'USD' });
  });

  it.each([
    ['a total that is not subtotal plus tax', { totalMinor: 1 }],
    ['lines that do not sum to the subtotal', { subtotalMinor: 3000, totalMinor: 3589 }],
    ['an unsupported currency', { currency: 'XXX' }],
    ['a missing customer id', { customerId: undefined }],
    ['an empty service period', { lines: [aLine({ periodStart: '2026-02-15', periodEnd: '2026-02-15' })] }],
  ])(
    'dead-letters an invoice with %s, posts nothing and announces posting.failed',
    async (_label, overrides) => {
      const invoice = anInvoice(overrides);
      const event = anEvent('invoice.issued', invoice);
      await h.stack.transport.publish([event]);
      const dead = await waitFor(
        () =>
          h
            .finance()
            .selectFrom('dead_letter')
            .selectAll()
            .where('event_id', '=', event.id)
            .executeTakeFirst(),
        10_000,
        'the event to be dead-lettered',
      );
      expect(dead).toMatchObject({ consumer: 'finance.billing', attempts: 2 });
      expect(await h.count('receivable', { invoice_id: invoice.id })).toBe(0);
      expect(await h.count('journal_entry', { source_id: invoice.id })).toBe(0);
      // The dead-letter hook announces the failure in the dead letter's transaction, never invoice.posted.
      const outbox = await h
        .finance()
        .selectFrom('outbox')
        .select(['type', 'data', 'correlation_id', 'causation_id'])
        .where('subject', '=', invoice.id)
        .execute();
      expect(outbox).toEqual([
        {
          type: 'posting.failed',
          data: { invoiceId: invoice.id, error: dead.error, attempts: 2 },
          correlation_id: event.correlationid,
          causation_id: event.id,
        },
      ]);
    },
  );

  it('names the amendment in posting.failed when a proration document is dead-lettered', async () => {
    const amendmentId = randomUUID();
    const invoice = anInvoice({ amendmentId, totalMinor: 1 });
    const event = anEvent('invoice.issued', invoice);
    await h.stack.transport.publish([event]);
    const failed = await waitFor(
      () =>
        h
          .finance()
          .selectFrom('outbox')
          .select(['type', 'data'])
          .where('subject', '=', invoice.id)
          .executeTakeFirst(),
      10_000,
      'posting.failed',
    );
    expect(failed).toMatchObject({
      type: 'posting.failed',
      data: { invoiceId: invoice.id, amendmentId, attempts: 2 },
    });
  });

  it('announces nothing when a contract record (subscription.*) is dead-lettered', async () => {
    const event = anEvent('subscription.amended', { id: randomUUID(), version: 'x' });
    await h.stack.transport.publish([event]);
    await waitFor(
      () =>
        h.finance().selectFrom('dead_letter').selectAll().where('event_id', '=', event.id).executeTakeFirst(),
      10_000,
      'the event to be dead-lettered',
    );
    expect(await h.count('outbox', { subject: event.subject })).toBe(0);
  });

  it('keeps the contract record and the customer master, ignoring stale versions', async () => {
    const subscription = {
      id: randomUUID(),
      customerId: randomUUID(),
      planCode: 'TEAM',
      billingPeriod: 'MONTH',
      status: 'ACTIVE',
      seats: 3,
      unitPriceMinor: 995,
      currency: 'USD',
      startDate: '2026-01-15',
      currentPeriod: { start: '2026-03-15', end: '2026-04-15' },
      version: 2,
    };
    await h.publish(anEvent('subscription.created', { ...subscription, version: 1, seats: 1 }));
    await h.publish(anEvent('subscription.amended', subscription));
    await h.publish(anEvent('subscription.renewed', { ...subscription, version: 1, seats: 9 }));
    const contract = await h
      .finance()
      .selectFrom('contract')
      .selectAll()
      .where('subscription_id', '=', subscription.id)
      .executeTakeFirstOrThrow();
    expect(contract).toMatchObject({
      seats: 3,
      version: 2,
      period_start: '2026-03-15',
      period_end: '2026-04-15',
    });

    const customer = {
      id: randomUUID(),
      name: 'Acme',
      email: 'a@acme.example',
      status: 'ACTIVE',
      businessUnit: 'EMEA',
      segment: null,
      country: 'DE',
      region: null,
      parentId: null,
      version: 2,
    };
    await h.publish(anEvent('customer.updated', customer));
    await h.publish(anEvent('customer.created', { ...customer, name: 'Old', version: 1 }));
    expect(
      await h
        .finance()
        .selectFrom('customer_master')
        .selectAll()
        .where('id', '=', customer.id)
        .executeTakeFirstOrThrow(),
    ).toMatchObject({
      name: 'Acme',
      business_unit: 'EMEA',
      country: 'DE',
      version: 2,
    });
  });

  describe('a batch of documents (consumers in batches on NATS)', () => {
    /**
     * One subscription's documents in issue order — an invoice, a credit note that pays part of
     * it, a second invoice, a credit note larger than what is open — the first invoice's event
     * again (a re-issue under a new event id), and another subscription's invoice.
     */
    function scenario() {
      const customerId = randomUUID();
      const common = { customerId, subscriptionId: randomUUID() };
      const docs = [
        anInvoice({ ...common, issuedOn: '2026-01-15' }),
        aCreditNote({ ...common, issuedOn: '2026-01-20' }, 1000, 190),
        anInvoice({ ...common, issuedOn: '2026-02-15' }),
        aCreditNote({ ...common, issuedOn: '2026-02-20' }, 9000, 1710),
        anInvoice({ customerId, issuedOn: '2026-02-15' }),
        // A third subscription's, arriving out of date order: a credit note, then an invoice, then
        // an older invoice. The credit pays the invoice there was when it could, not the older one.
        ...((third) => [
          aCreditNote({ ...third, issuedOn: '2026-03-01' }, 1000, 190),
          anInvoice({ ...third, issuedOn: '2026-02-15' }),
          anInvoice({ ...third, issuedOn: '2026-01-15' }),
        ])({ customerId, subscriptionId: randomUUID() }),
      ];
      const eventOf = (doc: (typeof docs)[number]) =>
        anEvent(doc.kind === 'CREDIT_NOTE' ? 'creditnote.issued' : 'invoice.issued', doc);
      const events: CloudEvent[] = docs.slice(0, 4).map(eventOf);
      events.push(eventOf(docs[0]!), ...docs.slice(4).map(eventOf));
      return { docs, events };
    }

    /** What the ledger holds for the documents, by their position in the scenario. */
    async function outcome(ids: string[]) {
      const position = (id: string) => ids.indexOf(id);
      const receivables = await h
        .finance()
        .selectFrom('receivable')
        .select(['invoice_id', 'amount_due_minor', 'posting_status'])
        .where('invoice_id', 'in', ids)
        .execute();
      const allocations = await h
        .finance()
        .selectFrom('credit_allocation')
        .select(['credit_note_id', 'invoice_id', 'amount_minor'])
        .where('invoice_id', 'in', ids)
        .execute();
      return {
        receivables: receivables
          .map((r) => [position(r.invoice_id), r.amount_due_minor, r.posting_status])
          .sort((a, b) => Number(a[0]) - Number(b[0])),
        allocations: allocations
          .map((a) => [position(a.credit_note_id), position(a.invoice_id), a.amount_minor])
          .sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[1]) - Number(b[1])),
        entries: await Promise.all(ids.map((id) => h.count('journal_entry', { source_id: id }))),
        posted: await Promise.all(ids.map((id) => h.count('outbox', { subject: id }))),
      };
    }

    it('posts them together with the same outcome as one at a time: allocations, duplicates, events', async () => {
      const one = scenario();
      for (const event of one.events) await applyOnce(consumerOptions(), event);
      const together = scenario();
      expect(await applyBatch(consumerOptions(), together.events, async () => {})).toBe(9);
      const expected = await outcome(one.docs.map((d) => d.id));
      expect(await outcome(together.docs.map((d) => d.id))).toEqual(expected);
      // The scenario does what it says: the first credit note pays part of the first invoice, the
      // second pays both invoices off and keeps a credit balance; each document posted once.
      expect(expected.allocations).toContainEqual([5, 6, 1190]);
      expect(expected.allocations.length).toBe(4);
      expect(expected.entries).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
      expect(expected.posted).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    });

    it('sends a fixed number of statements for a batch of invoices, whatever its size', async () => {
      const counted = async (n: number) => {
        const events = Array.from({ length: n }, () => anEvent('invoice.issued', anInvoice()));
        const sent = await statementsSent(h.stack.database, async () => {
          expect(await applyBatch(consumerOptions(), events, async () => {})).toBe(n);
        });
        return sent.length;
      };
      // The inbox; the receivables; the journal entries, their lines and the revenue schedules
      // (held, one statement); the postings marked; the open documents for credit allocation; the
      // events (held, sent at the end). One at a time it was about six an invoice.
      expect(await counted(2)).toBe(6);
      expect(await counted(20)).toBe(6);
    });

    it("keeps a batch's contract records with one statement, the newest version of each winning", async () => {
      const subscription = (seats: number, version: number, id = randomUUID()) => ({
        id,
        customerId: '0190a000-0000-7000-8000-000000000001',
        planCode: 'TEAM',
        billingPeriod: 'MONTH',
        status: 'ACTIVE',
        seats,
        unitPriceMinor: 995,
        currency: 'USD',
        startDate: '2026-01-15',
        currentPeriod: { start: '2026-03-15', end: '2026-04-15' },
        version,
      });
      const one = randomUUID();
      const other = randomUUID();
      await applyOnce(consumerOptions(), anEvent('subscription.created', subscription(1, 1, one)));
      const events = [
        anEvent('subscription.amended', subscription(3, 3, one)),
        anEvent('subscription.created', subscription(4, 1, other)),
        anEvent('subscription.amended', subscription(2, 2, one)), // older than the one before it
        anEvent('subscription.amended', subscription(5, 2, other)),
      ];
      const sent = await statementsSent(h.stack.database, async () => {
        expect(await applyBatch(consumerOptions(), events, async () => {})).toBe(4);
      });
      // The inbox and the records' upsert.
      expect(sent).toHaveLength(2);
      const contracts = await h
        .finance()
        .selectFrom('contract')
        .select(['subscription_id', 'seats', 'version'])
        .where('subscription_id', 'in', [one, other])
        .execute();
      expect(new Map(contracts.map((c) => [c.subscription_id, [c.seats, c.version]]))).toEqual(
        new Map([
          [one, [3, 3]],
          [other, [5, 2]],
        ]),
      );
    });
  });
});
