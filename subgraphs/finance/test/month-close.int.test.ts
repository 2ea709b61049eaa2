import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, unique } from '@c2c/platform/testing';
import { aCreditNote, aLine, anInvoice } from './builders.ts';
import { startFinance, type FinanceHarness } from './harness.ts';

const CLOSE = /* GraphQL */ `
  mutation ($input: CloseRevenueMonthInput!) {
    closeRevenueMonth(input: $input) {
      month
      recognized {
        amount
        currency
      }
      journalEntryIds
      userErrors {
        code
        field
        message
      }
    }
  }
`;

const BALANCES = /* GraphQL */ `
  {
    trialBalance {
      account
      balance {
        amount
        currency
      }
    }
  }
`;

// "Today" is 2026-03-10 (harness): 2026-02 is the last month that has ended.
describe('closeRevenueMonth', () => {
  let h: FinanceHarness;
  beforeAll(async () => {
    h = await startFinance();
  });
  afterAll(() => h.close());

  const close = async (month: unknown, idempotencyKey = unique('close')) =>
    (
      (await graphql(h.url, CLOSE, { input: { month, idempotencyKey } }, { 'x-c2c-caller': 'ops' }))
        .data as any
    ).closeRevenueMonth;
  const linesOf = (entryId: string) =>
    h
      .finance()
      .selectFrom('journal_line')
      .select(['account', 'side', 'amount_minor', 'currency'])
      .where('entry_id', '=', entryId)
      .orderBy('line_no')
      .execute();
  const balance = async (account: string, currency = 'USD') => {
    const rows = ((await graphql(h.url, BALANCES)).data as any).trialBalance as any[];
    return rows.find((r) => r.account === account && r.balance.currency === currency)?.balance.amount ?? null;
  };
  const schedule = async (subscriptionId: string) =>
    (
      await h.entities(`... on BillingSubscription { revenueSchedule { month recognized } }`, [
        { __typename: 'BillingSubscription', id: subscriptionId },
      ])
    )[0].revenueSchedule;
  const written = async () => ({
    entries: await h.count('journal_entry'),
    lines: await h.count('journal_line'),
    recognized: await h.count('revenue_schedule', { recognized: true }),
    keys: await h.count('idempotency_key'),
  });
  const nothingLeft = { recognized: [], journalEntryIds: [], userErrors: [] };

  it('recognizes a month, then the next, then nothing: Dr Deferred Revenue / Cr Revenue', async () => {
    // 31.00 USD over 2026-01-15 → 2026-02-15: 17.00 in January, 14.00 in February.
    const invoice = anInvoice();
    await h.issue(invoice);
    expect(await balance('DEFERRED_REVENUE')).toBe('-31.00');
    expect(await balance('REVENUE')).toBeNull();

    const january = await close('2026-01');
    expect(january).toMatchObject({
      month: '2026-01',
      recognized: [{ amount: '17.00', currency: 'USD' }],
      userErrors: [],
    });
    expect(january.journalEntryIds).toHaveLength(1);
    expect(await linesOf(january.journalEntryIds[0])).toEqual([
      { account: 'DEFERRED_REVENUE', side: 'DEBIT', amount_minor: 1700, currency: 'USD' },
      { account: 'REVENUE', side: 'CREDIT', amount_minor: 1700, currency: 'USD' },
    ]);
    const entry = await h
      .finance()
      .selectFrom('journal_entry')
      .select(['source_type', sql`entry_date::text`.as('entry_date')])
      .where('id', '=', january.journalEntryIds[0])
      .executeTakeFirstOrThrow();
    expect(entry).toEqual({ source_type: 'MONTH_CLOSE', entry_date: '2026-01-31' });
    expect(await balance('DEFERRED_REVENUE')).toBe('-14.00');
    expect(await balance('REVENUE')).toBe('-17.00');
    expect(await schedule(invoice.subscriptionId)).toEqual([
      { month: '2026-01', recognized: true },
      { month: '2026-02', recognized: false },
    ]);

    const february = await close('2026-02');
    expect(february).toMatchObject({ month: '2026-02', recognized: [{ amount: '14.00', currency: 'USD' }] });
    expect(await linesOf(february.journalEntryIds[0])).toEqual([
      { account: 'DEFERRED_REVENUE', side: 'DEBIT', amount_minor: 1400, currency: 'USD' },
      { account: 'REVENUE', side: 'CREDIT', amount_minor: 1400, currency: 'USD' },
    ]);
    expect(await balance('DEFERRED_REVENUE')).toBe('0.00');
    expect(await balance('REVENUE')).toBe('-31.00');
    expect(await schedule(invoice.subscriptionId)).toEqual([
      { month: '2026-01', recognized: true },
      { month: '2026-02', recognized: true },
    ]);

    const before = await written();
    expect(await close('2026-02')).toEqual({ month: '2026-02', ...nothingLeft });
    expect(await close('2026-01')).toEqual({ month: '2026-01', ...nothingLeft });
    expect({ ...(await written()), keys: before.keys }).toEqual(before);
  });

  it('nets credit notes per currency, catches up earlier months, and swaps sides for a negative net', async () => {
    // USD: 31.00 − 8.02 = 22.98 over January and February; EUR: a lone credit note of −8.02.
    await h.issue(anInvoice());
    await h.issue(aCreditNote());
    await h.issue(aCreditNote({ currency: 'EUR' }));

    const closed = await close('2026-02');
    expect(closed).toMatchObject({
      month: '2026-02',
      recognized: [
        { amount: '-8.02', currency: 'EUR' },
        { amount: '22.98', currency: 'USD' },
      ],
      userErrors: [],
    });
    const [eur, usd] = closed.journalEntryIds;
    expect(await linesOf(eur)).toEqual([
      { account: 'DEFERRED_REVENUE', side: 'CREDIT', amount_minor: 802, currency: 'EUR' },
      { account: 'REVENUE', side: 'DEBIT', amount_minor: 802, currency: 'EUR' },
    ]);
    expect(await linesOf(usd)).toEqual([
      { account: 'DEFERRED_REVENUE', side: 'DEBIT', amount_minor: 2298, currency: 'USD' },
      { account: 'REVENUE', side: 'CREDIT', amount_minor: 2298, currency: 'USD' },
    ]);
    expect(await balance('DEFERRED_REVENUE', 'EUR')).toBe('0.00');
    expect(await balance('REVENUE', 'EUR')).toBe('8.02');
    expect(await h.count('revenue_schedule', { recognized: false })).toBe(0);
  });

  it('marks rows recognized but posts no entry for a currency whose net is zero', async () => {
    await h.issue(anInvoice({ currency: 'GBP' }));
    await h.issue(
      anInvoice({ kind: 'CREDIT_NOTE', currency: 'GBP' }, [aLine({ amountMinor: -3100, taxMinor: -589 })]),
    );
    const before = await written();
    expect(await close('2026-02')).toEqual({ month: '2026-02', ...nothingLeft });
    expect(await written()).toEqual({ ...before, recognized: before.recognized + 4, keys: before.keys + 1 });
  });

  it.each([
    ['a month out of range', '2026-13', 'INVALID_MONTH'],
    ['a one-digit month', '2026-1', 'INVALID_MONTH'],
    ['a date', '2026-01-31', 'INVALID_MONTH'],
    ['an empty month', '', 'INVALID_MONTH'],
    ['the current month', '2026-03', 'MONTH_NOT_ENDED'],
    ['a future month', '2027-01', 'MONTH_NOT_ENDED'],
  ])('rejects %s with a userError and writes nothing', async (_label, month, code) => {
    await h.issue(anInvoice({}, [aLine({ periodStart: '2026-02-01', periodEnd: '2026-04-01' })]));
    const before = await written();
    expect(await close(month)).toEqual({
      month: null,
      recognized: [],
      journalEntryIds: [],
      userErrors: [expect.objectContaining({ code, field: 'month' })],
    });
    expect(await written()).toEqual(before);
  });

  it('returns the stored result for a repeated key and refuses the key for another month', async () => {
    await h.issue(anInvoice({}, [aLine({ periodStart: '2025-12-01', periodEnd: '2026-01-01' })]));
    const key = unique('close');
    const first = await close('2026-01', key);
    expect(first.userErrors).toEqual([]);
    expect(first.journalEntryIds.length).toBeGreaterThan(0);
    const before = await written();
    expect(await close('2026-01', key)).toEqual(first);
    expect(await written()).toEqual(before);
    expect(await close('2026-02', key)).toEqual({
      month: null,
      recognized: [],
      journalEntryIds: [],
      userErrors: [expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'idempotencyKey' })],
    });
    expect(await written()).toEqual(before);
  });
});
