import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, unique } from '@c2c/platform/testing';
import { aCreditNote, aLine, anInvoice } from './builders.ts';
import { startFinance, type FinanceHarness } from './harness.ts';

const RECORD = `mutation ($input: RecordPaymentInput!) { recordPayment(input: $input) { userErrors { code } } }`;

describe('finance reads', () => {
  let h: FinanceHarness;
  beforeAll(async () => {
    h = await startFinance();
  });
  afterAll(() => h.close());

  const query = async (text: string, variables: Record<string, unknown> = {}) => {
    const result = await graphql(h.url, text, variables);
    return result;
  };
  const pay = (invoiceId: string, amount: string, currency = 'USD') =>
    graphql(h.url, RECORD, {
      input: { invoiceId, amount: { amount, currency }, receivedOn: '2026-03-01', idempotencyKey: unique() },
    });

  it('sums a customer receivable, with overdue invoices as of the clock', async () => {
    const customerId = randomUUID();
    const overdue = anInvoice({ customerId, dueOn: '2026-03-09' }); // 36.89, due yesterday
    const dueToday = anInvoice({ customerId, dueOn: '2026-03-10' }); // 36.89, not overdue yet
    const paidOff = anInvoice({ customerId, dueOn: '2026-02-01' });
    const note = aCreditNote({ customerId, dueOn: '2026-02-01' }); // −9.54
    for (const doc of [overdue, dueToday, paidOff, note]) await h.issue(doc);
    await pay(overdue.id, '6.89');
    await pay(paidOff.id, '36.89');

    const [customer, unknown] = await h.entities(
      '... on Customer { id receivable { balance { amount currency } overdue { amount currency } openInvoiceCount } }',
      [
        { __typename: 'Customer', id: customerId },
        { __typename: 'Customer', id: randomUUID() },
      ],
    );
    expect(customer.receivable).toEqual({
      balance: { amount: '57.35', currency: 'USD' }, // 30.00 + 36.89 + 0 − 9.54
      overdue: { amount: '30.00', currency: 'USD' },
      openInvoiceCount: 2,
    });
    expect(unknown.receivable).toBeNull();

    h.clock.set('2026-03-11T00:00:00Z');
    try {
      const [later] = await h.entities('... on Customer { receivable { overdue { amount } } }', [
        { __typename: 'Customer', id: customerId },
      ]);
      expect(later.receivable.overdue.amount).toBe('66.89');
    } finally {
      h.clock.set('2026-03-10T12:00:00Z');
    }
  });

  it('shows the receivable in the currency of most documents', async () => {
    const customerId = randomUUID();
    await h.issue(anInvoice({ customerId, currency: 'JPY' }, [aLine({ amountMinor: 500, taxMinor: 50 })]));
    await h.issue(anInvoice({ customerId, currency: 'JPY' }, [aLine({ amountMinor: 500, taxMinor: 50 })]));
    await h.issue(anInvoice({ customerId, currency: 'EUR' }));
    const [customer] = await h.entities('... on Customer { receivable { balance { amount currency } } }', [
      { __typename: 'Customer', id: customerId },
    ]);
    expect(customer.receivable.balance).toEqual({ amount: '1100', currency: 'JPY' });
  });

  it('gives a subscription its monthly revenue schedule over all its documents', async () => {
    const subscriptionId = randomUUID();
    await h.issue(anInvoice({ subscriptionId })); // 31.00: Jan 17.00, Feb 14.00
    await h.issue(
      anInvoice({ subscriptionId, issuedOn: '2026-02-15' }, [
        aLine({ periodStart: '2026-02-15', periodEnd: '2026-03-15', amountMinor: 2800 }),
      ]),
    );
    await h.issue(aCreditNote({ subscriptionId })); // −8.02: Jan −3.70, Feb −4.32
    const [subscription, none] = await h.entities(
      '... on BillingSubscription { id revenueSchedule { month revenue { amount currency } recognized } }',
      [
        { __typename: 'BillingSubscription', id: subscriptionId },
        { __typename: 'BillingSubscription', id: randomUUID() },
      ],
    );
    expect(subscription.revenueSchedule).toEqual([
      { month: '2026-01', revenue: { amount: '13.30', currency: 'USD' }, recognized: false },
      { month: '2026-02', revenue: { amount: '23.68', currency: 'USD' }, recognized: false }, // 14.00 + 14.00 − 4.32
      { month: '2026-03', revenue: { amount: '14.00', currency: 'USD' }, recognized: false },
    ]);
    expect(none.revenueSchedule).toEqual([]);
  });

  it('pages journal entries newest first and rejects page sizes outside 1–100', async () => {
    await h.issue(anInvoice());
    await h.issue(anInvoice());
    const PAGE = `query ($first: Int, $after: String) { journalEntries(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { id entryDate memo createdAt lines { account side amount { amount currency } } } } }`;
    const all = ((await query(PAGE, { first: 100 })).data as any).journalEntries;
    expect(all.totalCount).toBeGreaterThanOrEqual(2);
    const ids = all.nodes.map((n: any) => n.id);
    expect([...ids].sort().reverse()).toEqual(ids);
    const page1 = ((await query(PAGE, { first: 1 })).data as any).journalEntries;
    expect(page1.nodes[0].id).toBe(ids[0]);
    expect(page1.nodes[0]).toMatchObject({
      entryDate: '2026-01-15',
      memo: expect.stringMatching(/^Invoice INV-/),
    });
    expect(page1.nodes[0].lines).toEqual([
      { account: 'ACCOUNTS_RECEIVABLE', side: 'DEBIT', amount: { amount: '36.89', currency: 'USD' } },
      { account: 'DEFERRED_REVENUE', side: 'CREDIT', amount: { amount: '31.00', currency: 'USD' } },
      { account: 'TAX_PAYABLE', side: 'CREDIT', amount: { amount: '5.89', currency: 'USD' } },
    ]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = ((await query(PAGE, { first: 1, after: page1.pageInfo.endCursor })).data as any)
      .journalEntries;
    expect(page2.nodes[0].id).toBe(ids[1]);
    for (const first of [0, 101, -1]) {
      expect((await query(PAGE, { first })).errors?.[0]?.extensions?.code).toBe('INVALID_PAGE_SIZE');
    }
    expect((await query(PAGE, { first: 1, after: 'garbage' })).errors?.[0]?.extensions?.code).toBe(
      'INVALID_CURSOR',
    );
  });

  it('has a trial balance that nets to zero per currency, with AR equal to the open receivables', async () => {
    await h.issue(anInvoice({ currency: 'BHD' }, [aLine({ amountMinor: 12_345, taxMinor: 1_234 })]));
    const result = await query(`{ trialBalance { account balance { amount currency } } }`);
    const rows = (result.data as any).trialBalance as {
      account: string;
      balance: { amount: string; currency: string };
    }[];
    const minor = (amount: string) => Number(amount.replace('.', ''));
    const net = new Map<string, number>();
    for (const row of rows)
      net.set(row.balance.currency, (net.get(row.balance.currency) ?? 0) + minor(row.balance.amount));
    expect([...net.keys()].sort()).toEqual(expect.arrayContaining(['BHD', 'USD']));
    for (const [, total] of net) expect(total).toBe(0);
    expect(
      rows.find((r) => r.account === 'TAX_PAYABLE' && r.balance.currency === 'BHD')?.balance.amount,
    ).toBe('-1.234');

    const dueUsd = await h
      .finance()
      .selectFrom('receivable')
      .select((eb) => eb.fn.sum<number>('amount_due_minor').as('due'))
      .where('currency', '=', 'USD')
      .executeTakeFirstOrThrow();
    const arUsd = rows.find((r) => r.account === 'ACCOUNTS_RECEIVABLE' && r.balance.currency === 'USD')!;
    expect(minor(arUsd.balance.amount)).toBe(Number(dueUsd.due));
  });

  describe('resolves N entity references with one query per table', () => {
    const countQueries = async (run: () => Promise<unknown>) => {
      const statements: string[] = [];
      const stop = h.stack.database.onQuery((text) => statements.push(text));
      try {
        await run();
      } finally {
        stop();
      }
      return (table: string) =>
        statements.filter((s) => /^\s*select/i.test(s) && s.includes(`from "finance"."${table}"`)).length;
    };

    it('Invoice: posting, amountDue and payments', async () => {
      const invoices = [anInvoice(), anInvoice(), anInvoice(), anInvoice(), anInvoice()];
      for (const invoice of invoices) await h.issue(invoice);
      await pay(invoices[0]!.id, '1.00');
      let entities: any[] = [];
      const count = await countQueries(async () => {
        entities = await h.entities(
          '... on Invoice { id posting { status } amountDue { amount } payments { amount { amount } } }',
          [
            ...invoices.map((i) => ({ __typename: 'Invoice', id: i.id })),
            { __typename: 'Invoice', id: randomUUID() },
          ],
        );
      });
      expect(entities.map((e) => e.posting.status)).toEqual([
        'POSTED',
        'POSTED',
        'POSTED',
        'POSTED',
        'POSTED',
        'PENDING',
      ]);
      expect(entities[0].payments).toEqual([{ amount: { amount: '1.00' } }]);
      expect(count('receivable')).toBe(1);
      expect(count('payment')).toBe(1);
    });

    it('Customer: receivable', async () => {
      const customers = Array.from({ length: 5 }, () => randomUUID());
      for (const customerId of customers) await h.issue(anInvoice({ customerId }));
      let entities: any[] = [];
      const count = await countQueries(async () => {
        entities = await h.entities(
          '... on Customer { id receivable { balance { amount } openInvoiceCount } }',
          customers.map((id) => ({ __typename: 'Customer', id })),
        );
      });
      expect(entities.map((e) => e.receivable.balance.amount)).toEqual(Array(5).fill('36.89'));
      expect(count('receivable')).toBe(1);
    });

    it('BillingSubscription: revenueSchedule', async () => {
      const subscriptions = Array.from({ length: 5 }, () => randomUUID());
      for (const subscriptionId of subscriptions) await h.issue(anInvoice({ subscriptionId }));
      let entities: any[] = [];
      const count = await countQueries(async () => {
        entities = await h.entities(
          '... on BillingSubscription { id revenueSchedule { month revenue { amount } } }',
          subscriptions.map((id) => ({ __typename: 'BillingSubscription', id })),
        );
      });
      expect(entities.map((e) => e.revenueSchedule.length)).toEqual(Array(5).fill(2));
      expect(count('revenue_schedule')).toBe(1);
    });

    it('JournalEntry lines are batched', async () => {
      const count = await countQueries(() =>
        query(`{ journalEntries(first: 20) { nodes { lines { account } } } }`),
      );
      expect(count('journal_line')).toBe(1);
    });
  });
});
