import { ledgerConformance } from './ledger.conformance.ts';
import { decimalText, trytonReader, type TrytonReader } from './tryton-reader.ts';

// The Tryton adapter against a real Tryton (skipped without TRYTON_URL; scripts/tryton/server.sh
// --fresh prints one). Everything is checked by reading Tryton's own JSON-RPC, not through our code.
const TRYTON_URL = process.env.TRYTON_URL;
let reader: Promise<TrytonReader> | undefined;
const tryton = () => (reader ??= trytonReader(TRYTON_URL!));

ledgerConformance('tryton', () =>
  TRYTON_URL
    ? {
        env: {
          ERP_ADAPTER: 'tryton',
          TRYTON_URL,
          TRYTON_COMPANY: 'C2C Demo Company',
          TRYTON_CURRENCY: 'USD',
        },
        documents: async (_h, ourId) => {
          const rpc = await tryton();
          const ids = await rpc.call<number[]>('account.invoice', 'search', [
            [['reference', '=', ourId]],
            0,
            null,
            null,
          ]);
          if (ids.length === 0) return [];
          const rows = await rpc.call<Array<Record<string, unknown>>>('account.invoice', 'read', [
            ids,
            ['untaxed_amount', 'tax_amount', 'total_amount', 'amount_to_pay', 'lines', 'state'],
          ]);
          return Promise.all(
            rows.map(async (row) => {
              const lines = await rpc.call<Array<Record<string, unknown>>>('account.invoice.line', 'read', [
                row.lines as number[],
                ['amount'],
              ]);
              return {
                total: decimalText(row.total_amount),
                tax: decimalText(row.tax_amount),
                untaxed: decimalText(row.untaxed_amount),
                lineAmounts: lines.map((l) => decimalText(l.amount)),
                amountToPay: decimalText(row.amount_to_pay),
              };
            }),
          );
        },
        payments: async (_h, paymentId) => {
          const rpc = await tryton();
          const moves = await rpc.call<number[]>('account.move', 'search', [
            [['description', '=', paymentId]],
            0,
            null,
            null,
          ]);
          const ids = await rpc.call<number[]>('account.move.line', 'search', [
            [['move', 'in', moves]],
            0,
            null,
            null,
          ]);
          const rows = await rpc.call<Array<Record<string, unknown>>>('account.move.line', 'read', [
            ids,
            ['debit', 'credit'],
          ]);
          // The pay wizard's move: Dr cash / Cr receivable, the credit is the amount paid.
          return rows.map((r) => decimalText(r.credit)).filter((c) => c !== '0.00');
        },
      }
    : null,
);
