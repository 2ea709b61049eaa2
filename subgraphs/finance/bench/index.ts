import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { formatMinor, silentLogger } from '@c2c/platform/core';
import { migrate, openDatabase } from '@c2c/platform/db';
import type { BillingDocument } from '../src/ports/ledger.port.ts';
import { TrytonClient, date, decimal } from '../src/ports/tryton/client.ts';
import { acceptedPostWarnings, ensureCustomer } from '../src/ports/tryton/invoices.ts';
import { prepareTryton, xmlId } from '../src/ports/tryton/setup.ts';
import { TrytonLedger } from '../src/ports/tryton/tryton-ledger.ts';

// The benchmarks this subgraph adds to `npm run bench` (found by convention, like src/commands.ts).

export interface ContributedBenchmark {
  summary: string;
  run(options: {
    quick: boolean;
    env: Readonly<Record<string, string | undefined>>;
    log: (line: string) => void;
  }): Promise<{
    lines: string[];
    json: Record<string, unknown>;
    targets: { target: string; measured: number | null; goal: number; atLeast: boolean }[];
  }>;
}

/** The fiscal year the benchmark posts into: its own, so Tryton's invoice sequence never sees it out of order. */
const YEAR = 2030;
const ON = `${YEAR}-06-15`;

function aDocument(customerId: string, n: number): BillingDocument {
  // Two lines at 19 %, amounts that round per line: what billing sends.
  const lines = [
    { amountMinor: 2985 + n, taxMinor: Math.round((2985 + n) * 0.19) },
    { amountMinor: 1412, taxMinor: 268 },
  ].map((l, i) => ({
    id: randomUUID(),
    description: i === 0 ? 'Team plan, 3 seats' : 'Proration, 2 seats',
    amountMinor: l.amountMinor,
    taxMinor: l.taxMinor,
    taxRatePpm: 190_000,
    periodStart: ON,
    periodEnd: `${YEAR}-07-15`,
  }));
  const subtotalMinor = lines.reduce((s, l) => s + l.amountMinor, 0);
  const taxMinor = lines.reduce((s, l) => s + l.taxMinor, 0);
  return {
    id: randomUUID(),
    number: `BENCH-${n}`,
    kind: 'INVOICE',
    customerId,
    subscriptionId: null,
    businessUnit: 'BENCH',
    currency: 'USD',
    issuedOn: ON,
    dueOn: `${YEAR}-07-15`,
    subtotalMinor,
    taxMinor,
    totalMinor: subtotalMinor + taxMinor,
    lines,
  };
}

export const benchmarks: Record<string, ContributedBenchmark> = {
  erp: {
    summary:
      'ERP adapter (Tryton): documents posted through the adapter vs. the same documents created and posted with JSON-RPC directly (needs TRYTON_URL)',
    async run({ quick, env, log }) {
      const url = env.TRYTON_URL;
      const goal = { target: 'Tryton adapter ≥ 0.8× direct JSON-RPC', goal: 0.8, atLeast: true };
      if (!url) {
        return {
          lines: ['ERP adapter: not measured (TRYTON_URL is not set; scripts/tryton/server.sh prints one)'],
          json: { unavailable: 'TRYTON_URL is not set' },
          targets: [{ ...goal, measured: null }],
        };
      }
      const count = quick ? 20 : 100;
      const rounds = quick ? 2 : 3;
      const database = await openDatabase({ kind: 'pglite', dataDir: null });
      const companyName = 'C2C Bench Co';
      try {
        await migrate(database.db, 'finance', join(import.meta.dirname, '..', 'migrations'));
        const log0 = silentLogger();
        const ledger = new TrytonLedger(
          database.db,
          { url, companyName, currency: 'USD', now: () => new Date(`${ON}T12:00:00Z`) },
          log0,
        );
        await ledger.connect(log0);
        // The floor: the same documents, each created and posted with the fewest JSON-RPC calls
        // (party, address and journal resolved beforehand, no lookup by reference, no read-back).
        const direct = new TrytonClient(url);
        const setup = await prepareTryton(direct, {
          companyName,
          currency: 'USD',
          fiscalYear: YEAR,
          taxes: [],
        });
        const customerId = randomUUID();
        const { partyId } = await ensureCustomer(direct, { id: customerId, name: 'Bench customer' });
        const [party] = await direct.call<Array<{ addresses: number[] }>>('party.party', 'read', [
          [partyId],
          ['addresses'],
        ]);
        const journal = await xmlId(direct, 'account', 'journal_revenue');
        const money = (minor: number) => decimal(formatMinor(minor, 'USD'));
        const postDirectly = async (doc: BillingDocument) => {
          const [id] = await direct.call<number[]>('account.invoice', 'create', [
            [
              {
                type: 'out',
                company: setup.companyId,
                currency: setup.currencyId,
                party: partyId,
                invoice_address: party!.addresses[0],
                account: setup.accounts.receivable,
                journal,
                payment_term: setup.paymentTermId,
                invoice_date: date(doc.issuedOn),
                reference: doc.id,
                lines: [
                  [
                    'create',
                    doc.lines.map((l) => ({
                      type: 'line',
                      company: setup.companyId,
                      currency: setup.currencyId,
                      description: l.description,
                      quantity: 1,
                      unit_price: money(l.amountMinor),
                      account: setup.accounts.revenue,
                    })),
                  ],
                ],
                taxes: [
                  [
                    'create',
                    [
                      {
                        description: 'Tax 19 %',
                        account: setup.accounts.tax,
                        base: money(doc.subtotalMinor),
                        amount: money(doc.taxMinor),
                        manual: true,
                      },
                    ],
                  ],
                ],
              },
            ],
          ]);
          await direct.callAcceptingWarnings('account.invoice', 'post', [[id]], acceptedPostWarnings);
        };
        const viaAdapter = async (doc: BillingDocument) => {
          await ledger.publishDocument(doc, log0);
        };
        // Warm both paths (sessions, the party, the journal), then alternate which goes first.
        await postDirectly(aDocument(customerId, 0));
        await viaAdapter(aDocument(customerId, 0));
        const perSecond = { adapter: [] as number[], direct: [] as number[] };
        let n = 1;
        for (let round = 0; round < rounds; round++) {
          const order = round % 2 === 0 ? (['direct', 'adapter'] as const) : (['adapter', 'direct'] as const);
          for (const path of order) {
            const docs = Array.from({ length: count }, () => aDocument(customerId, n++));
            const started = performance.now();
            for (const doc of docs) await (path === 'adapter' ? viaAdapter(doc) : postDirectly(doc));
            const seconds = (performance.now() - started) / 1000;
            perSecond[path].push(count / seconds);
            log(`erp: round ${round + 1}, ${path}: ${(count / seconds).toFixed(1)} documents/s`);
          }
        }
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
        const adapter = median(perSecond.adapter);
        const floor = median(perSecond.direct);
        const ratio = Math.round((adapter / floor) * 100) / 100;
        await ledger.close();
        await direct.logout();
        return {
          lines: [
            `ERP adapter (Tryton, ${count} documents × ${rounds} rounds per path, sequential, medians)`,
            `  through the adapter: ${adapter.toFixed(1)} documents/s · direct JSON-RPC floor: ${floor.toFixed(1)} documents/s · ratio ${ratio}×`,
          ],
          json: {
            documentsPerRound: count,
            rounds,
            adapterPerSecond: adapter,
            directPerSecond: floor,
            ratio,
            raw: perSecond,
          },
          targets: [{ ...goal, measured: ratio }],
        };
      } finally {
        await database.close();
      }
    },
  },
};
