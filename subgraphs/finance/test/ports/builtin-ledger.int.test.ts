import { formatMinor } from '@c2c/platform/core';
import { ledgerConformance } from './ledger.conformance.ts';

// The built-in ledger: our own double-entry tables are the system of record.
ledgerConformance('builtin', () => ({
  env: {},
  documents: async (h, ourId) => {
    const entries = await h
      .finance()
      .selectFrom('journal_entry as e')
      .innerJoin('journal_line as l', 'l.entry_id', 'e.id')
      .select(['e.id', 'l.account', 'l.side', 'l.amount_minor', 'l.currency'])
      .where('e.source_id', '=', ourId)
      .where('e.source_type', 'in', ['INVOICE', 'CREDIT_NOTE'])
      .execute();
    const ids = [...new Set(entries.map((e) => e.id))];
    return Promise.all(
      ids.map(async (id) => {
        const lines = entries.filter((e) => e.id === id);
        const signed = (account: string, natural: string) =>
          lines
            .filter((l) => l.account === account)
            .reduce((s, l) => s + (l.side === natural ? 1 : -1) * Number(l.amount_minor), 0);
        const currency = lines[0]!.currency;
        const receivable = await h
          .finance()
          .selectFrom('receivable')
          .select(['amount_due_minor'])
          .where('invoice_id', '=', ourId)
          .executeTakeFirstOrThrow();
        const revenueLines = await h
          .finance()
          .selectFrom('revenue_schedule')
          .select(['line_id', (eb) => eb.fn.sum<number>('amount_minor').as('amount')])
          .where('invoice_id', '=', ourId)
          .groupBy('line_id')
          .execute();
        return {
          total: formatMinor(signed('ACCOUNTS_RECEIVABLE', 'DEBIT'), currency),
          tax: formatMinor(signed('TAX_PAYABLE', 'CREDIT'), currency),
          untaxed: formatMinor(signed('DEFERRED_REVENUE', 'CREDIT'), currency),
          lineAmounts: revenueLines.map((r) => formatMinor(Number(r.amount), currency)),
          amountToPay: formatMinor(Number(receivable.amount_due_minor), currency),
        };
      }),
    );
  },
  payments: async (h, paymentId) => {
    const rows = await h
      .finance()
      .selectFrom('journal_entry as e')
      .innerJoin('journal_line as l', 'l.entry_id', 'e.id')
      .select(['l.amount_minor', 'l.currency'])
      .where('e.source_id', '=', paymentId)
      .where('e.source_type', '=', 'PAYMENT')
      .where('l.account', '=', 'CASH')
      .execute();
    return rows.map((r) => formatMinor(Number(r.amount_minor), r.currency));
  },
}));
