import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, unique } from '@c2c/platform/testing';
import { aCreditNote, anInvoice } from './builders.ts';
import { startFinance, type FinanceHarness } from './harness.ts';

// The ERP's own facts for reconciliation: the documents it posted, by the issue date and business
// unit billing sent with them.

const TOTALS = /* GraphQL */ `
  query ($from: Date, $to: Date) {
    erpControlTotals(from: $from, to: $to) {
      currency
      businessUnit
      month
      kind
      count
      total {
        amount
        currency
      }
    }
  }
`;
const DOCUMENTS = /* GraphQL */ `
  query ($bu: String!, $month: String!, $kind: InvoiceKind!, $first: Int, $after: String) {
    erpDocuments(
      currency: "USD"
      businessUnit: $bu
      month: $month
      kind: $kind
      first: $first
      after: $after
    ) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        number
        kind
        issuedOn
        total {
          amount
          currency
        }
        postedAt
      }
    }
  }
`;

type Data = any;

describe('finance reads: reconciliation', () => {
  let h: FinanceHarness;
  const bu = unique('BU-ERP');
  // 31.00 + 5.89 = 36.89 each; the credit note −(8.02 + 1.52) = −9.54.
  const january = [
    anInvoice({ businessUnit: bu, issuedOn: '2026-01-15' }),
    anInvoice({ businessUnit: bu, issuedOn: '2026-01-31' }),
  ];
  const february = anInvoice({ businessUnit: bu, issuedOn: '2026-02-01' });
  const note = aCreditNote({ businessUnit: bu, issuedOn: '2026-01-20' });
  const eur = anInvoice({ businessUnit: bu, issuedOn: '2026-01-15', currency: 'EUR' });

  const query = async (text: string, variables: Record<string, unknown> = {}) => {
    const result = await graphql<Data>(h.url, text, variables);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data;
  };

  beforeAll(async () => {
    h = await startFinance();
    for (const doc of [...january, february, note, eur]) await h.issue(doc);
  });
  afterAll(() => h.close());

  it('reports exact control totals of the posted documents in one SQL statement', async () => {
    const seen: string[] = [];
    const stop = h.stack.database.onQuery((sql) => seen.push(sql));
    const data = await query(TOTALS).finally(stop);
    const row = (currency: string, month: string, kind: string, count: number, amount: string) => ({
      currency,
      businessUnit: bu,
      month,
      kind,
      count,
      total: { amount, currency },
    });
    expect(data.erpControlTotals.filter((t: Data) => t.businessUnit === bu)).toEqual([
      row('EUR', '2026-01', 'INVOICE', 1, '36.89'),
      row('USD', '2026-01', 'CREDIT_NOTE', 1, '-9.54'),
      row('USD', '2026-01', 'INVOICE', 2, '73.78'),
      row('USD', '2026-02', 'INVOICE', 1, '36.89'),
    ]);
    expect(seen.filter((s) => /^\s*select/i.test(s) && s.includes('"finance"."receivable"'))).toHaveLength(1);

    const february = await query(TOTALS, { from: '2026-02-01', to: '2026-03-01' });
    expect(
      february.erpControlTotals.filter((t: Data) => t.businessUnit === bu).map((t: Data) => t.month),
    ).toEqual(['2026-02']);
  });

  it('pages the documents of one bucket by issue date and id', async () => {
    const first = (await query(DOCUMENTS, { bu, month: '2026-01', kind: 'INVOICE', first: 1 })).erpDocuments;
    expect(first).toMatchObject({
      totalCount: 2,
      pageInfo: { hasNextPage: true },
      nodes: [
        {
          id: january[0]!.id,
          number: january[0]!.number,
          kind: 'INVOICE',
          issuedOn: '2026-01-15',
          total: { amount: '36.89', currency: 'USD' },
          postedAt: expect.any(String),
        },
      ],
    });
    const second = (
      await query(DOCUMENTS, {
        bu,
        month: '2026-01',
        kind: 'INVOICE',
        first: 1,
        after: first.pageInfo.endCursor,
      })
    ).erpDocuments;
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(second.nodes.map((n: Data) => n.id)).toEqual([january[1]!.id]);
    const notes = (await query(DOCUMENTS, { bu, month: '2026-01', kind: 'CREDIT_NOTE' })).erpDocuments;
    expect(notes.nodes.map((n: Data) => [n.number, n.total.amount])).toEqual([[note.number, '-9.54']]);
  });

  it('refuses a malformed month with a coded error', async () => {
    const result = await graphql<Data>(h.url, DOCUMENTS, { bu, month: '26-01', kind: 'INVOICE' });
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_MONTH']);
  });
});
