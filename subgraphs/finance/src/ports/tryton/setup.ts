/**
 * Prepares an empty Tryton database (account_invoice activated, as `scripts/tryton/server.sh`
 * makes it) for the finance subgraph, over JSON-RPC only. Every step finds before it creates, so
 * running it again changes nothing and answers the same ids.
 *
 * What it creates, and the models (trytond 6.0):
 * - the currency (`currency.currency`: code, name, symbol, rounding 0.01, digits 2) — an empty
 *   database has none;
 * - the company: a `party.party` and a `company.company` in that currency; the logged-in user gets
 *   it in `companies` and as `company` (`res.user`), and the client logs in again so its context
 *   carries it;
 * - the chart of accounts, by the `account.create_chart` wizard from the minimal English template
 *   (`account.account_template_root_en`): Main Receivable, Main Payable, Main Revenue, Main
 *   Expense, Main Cash, Main Tax, with the default receivable and payable accounts set;
 * - the fiscal year (`account.fiscalyear`) with its post-move sequence (`ir.sequence`, type
 *   `account.sequence_type_account_move`), its invoice sequences (`account.fiscalyear.invoice_sequence`
 *   with one `ir.sequence.strict` of type `account_invoice.sequence_type_account_invoice` for all
 *   four kinds) and monthly periods (the `create_period` method);
 * - a customer payment term (`account.invoice.payment_term`: one remainder line N days out);
 * - the taxes (`account.tax`, type percentage, named by our code) on Main Tax;
 * - a payment method (`account.invoice.payment.method`) on the Cash journal and Main Cash, for the
 *   `account.invoice.pay` wizard.
 */
import { TrytonError, date, decimal, type TrytonClient, type TrytonDecimal } from './client.ts';

export interface TrytonTax {
  /** Our tax code; the Tryton tax's name. */
  code: string;
  /** A fraction as a decimal string: `"0.20"` is 20 %. */
  rate: string;
}

export interface PrepareTrytonOptions {
  companyName: string;
  currency: 'USD' | 'EUR';
  /** The calendar year of the fiscal year (January to December). */
  fiscalYear: number;
  taxes: readonly TrytonTax[];
  /** Customer payment term: due this many days after the invoice date (default 30). */
  paymentTermDays?: number;
  onProgress?: (step: string) => void;
}

export interface TrytonAccounts {
  receivable: number;
  payable: number;
  revenue: number;
  expense: number;
  cash: number;
  tax: number;
}

export interface TrytonSetup {
  companyId: number;
  currencyId: number;
  accounts: TrytonAccounts;
  fiscalYearId: number;
  /** Monthly periods, January first. */
  periodIds: number[];
  paymentTermId: number;
  /** Our tax code → Tryton's account.tax id. */
  taxes: Record<string, number>;
  paymentMethodId: number;
}

const CURRENCIES = {
  USD: { name: 'U.S. Dollar', symbol: '$', numeric_code: '840' },
  EUR: { name: 'Euro', symbol: '€', numeric_code: '978' },
} as const;

type Row = Record<string, unknown> & { id: number };

async function searchRead(
  client: TrytonClient,
  model: string,
  domain: unknown[],
  fields: string[],
  limit: number | null = null,
): Promise<Row[]> {
  // search_read(domain, offset, limit, order, fields_names)
  return client.call<Row[]>(model, 'search_read', [domain, 0, limit, null, fields]);
}

async function findId(client: TrytonClient, model: string, domain: unknown[]): Promise<number | null> {
  const ids = await client.call<number[]>(model, 'search', [domain, 0, 1, null]);
  return ids[0] ?? null;
}

async function createOne(
  client: TrytonClient,
  model: string,
  values: Record<string, unknown>,
): Promise<number> {
  const [id] = await client.call<number[]>(model, 'create', [[values]]);
  if (typeof id !== 'number')
    throw new TrytonError('TRYTON_PROTOCOL', `Tryton's ${model}.create answered no id`);
  return id;
}

/** The database id of an XML record (`module.fs_id`), e.g. `account.account_template_root_en`. */
export async function xmlId(client: TrytonClient, module: string, fsId: string): Promise<number> {
  const [row] = await searchRead(
    client,
    'ir.model.data',
    [
      ['module', '=', module],
      ['fs_id', '=', fsId],
    ],
    ['db_id'],
    1,
  );
  if (!row || typeof row.db_id !== 'number') {
    throw new TrytonError(
      'TRYTON_REFUSED',
      `Tryton has no record ${module}.${fsId} (is the module activated?)`,
    );
  }
  return row.db_id;
}

export async function prepareTryton(
  client: TrytonClient,
  options: PrepareTrytonOptions,
): Promise<TrytonSetup> {
  const progress = options.onProgress ?? (() => undefined);
  const { companyName, fiscalYear } = options;

  // 1. the currency
  const currency = CURRENCIES[options.currency];
  let currencyId = await findId(client, 'currency.currency', [['code', '=', options.currency]]);
  if (currencyId === null) {
    currencyId = await createOne(client, 'currency.currency', {
      code: options.currency,
      name: currency.name,
      symbol: currency.symbol,
      numeric_code: currency.numeric_code,
      rounding: decimal('0.01'),
      digits: 2,
    });
    progress(`currency ${options.currency} created`);
  } else progress(`currency ${options.currency} found`);

  // 2. the company, and the user working for it
  let companyId = await findId(client, 'company.company', [['party.name', '=', companyName]]);
  if (companyId === null) {
    const partyId = await createOne(client, 'party.party', { name: companyName });
    companyId = await createOne(client, 'company.company', { party: partyId, currency: currencyId });
    progress(`company ${companyName} created`);
  } else progress(`company ${companyName} found`);
  const userId = await client.userId();
  const [user] = await client.call<Row[]>('res.user', 'read', [[userId], ['companies', 'company']]);
  const companies = (user?.companies ?? []) as number[];
  if (!companies.includes(companyId) || user?.company !== companyId) {
    await client.call('res.user', 'write', [
      [userId],
      { companies: [['add', [companyId]]], company: companyId },
    ]);
    progress('user now works for the company');
  }
  await client.login(); // the context now carries the company
  const context = await client.context();
  if (context.company !== companyId) {
    throw new TrytonError(
      'TRYTON_PROTOCOL',
      `Tryton's user context still has company ${String(context.company)} instead of ${companyId}; restart trytond (it caches users)`,
    );
  }

  // 3. the chart of accounts
  const accounts = await findAccounts(client, companyId);
  if (!accounts) {
    const templateId = await xmlId(client, 'account', 'account_template_root_en');
    const [sessionId] = await client.wizard<[number, string, string]>('account.create_chart', 'create');
    try {
      await client.wizard('account.create_chart', 'execute', [sessionId, {}, 'account']);
      await client.wizard('account.create_chart', 'execute', [
        sessionId,
        { account: { company: companyId, account_template: templateId } },
        'create_account',
      ]);
      const created = await findAccounts(client, companyId);
      if (!created)
        throw new TrytonError(
          'TRYTON_PROTOCOL',
          'account.create_chart created no receivable, revenue, tax and cash accounts',
        );
      await client.wizard('account.create_chart', 'execute', [
        sessionId,
        {
          properties: {
            company: companyId,
            account_receivable: created.receivable,
            account_payable: created.payable,
          },
        },
        'create_properties',
      ]);
    } finally {
      await client.wizard('account.create_chart', 'delete', [sessionId]).catch(() => undefined);
    }
    progress('chart of accounts created (minimal template)');
  } else progress('chart of accounts found');
  const chart = await findAccounts(client, companyId);
  if (!chart) throw new TrytonError('TRYTON_PROTOCOL', 'the chart of accounts is incomplete');

  // 4. the fiscal year, its sequences and monthly periods
  const start = date(`${fiscalYear}-01-01`);
  let fiscalYearId = await findId(client, 'account.fiscalyear', [
    ['company', '=', companyId],
    ['start_date', '=', start],
  ]);
  if (fiscalYearId === null) {
    const moveType = await xmlId(client, 'account', 'sequence_type_account_move');
    const invoiceType = await xmlId(client, 'account_invoice', 'sequence_type_account_invoice');
    const moveSequence = await createOne(client, 'ir.sequence', {
      name: `Moves ${fiscalYear}`,
      sequence_type: moveType,
      company: companyId,
    });
    const invoiceSequence = await createOne(client, 'ir.sequence.strict', {
      name: `Invoices ${fiscalYear}`,
      sequence_type: invoiceType,
      company: companyId,
      prefix: `${fiscalYear}/`,
    });
    fiscalYearId = await createOne(client, 'account.fiscalyear', {
      name: String(fiscalYear),
      company: companyId,
      start_date: start,
      end_date: date(`${fiscalYear}-12-31`),
      post_move_sequence: moveSequence,
      invoice_sequences: [
        [
          'create',
          [
            {
              company: companyId,
              out_invoice_sequence: invoiceSequence,
              out_credit_note_sequence: invoiceSequence,
              in_invoice_sequence: invoiceSequence,
              in_credit_note_sequence: invoiceSequence,
            },
          ],
        ],
      ],
    });
    progress(`fiscal year ${fiscalYear} created`);
  } else progress(`fiscal year ${fiscalYear} found`);
  let periods = await searchRead(
    client,
    'account.period',
    [
      ['fiscalyear', '=', fiscalYearId],
      ['type', '=', 'standard'],
    ],
    ['start_date'],
  );
  if (periods.length === 0) {
    await client.call('account.fiscalyear', 'create_period', [[fiscalYearId]]);
    periods = await searchRead(
      client,
      'account.period',
      [
        ['fiscalyear', '=', fiscalYearId],
        ['type', '=', 'standard'],
      ],
      ['start_date'],
    );
    progress(`${periods.length} monthly periods created`);
  }
  const periodIds = periods
    .map((p) => ({ id: p.id, start: String(p.start_date) }))
    .sort((a, b) => a.start.localeCompare(b.start))
    .map((p) => p.id);

  // 5. the customer payment term
  const days = options.paymentTermDays ?? 30;
  const termName = `Net ${days}`;
  let paymentTermId = await findId(client, 'account.invoice.payment_term', [['name', '=', termName]]);
  if (paymentTermId === null) {
    paymentTermId = await createOne(client, 'account.invoice.payment_term', {
      name: termName,
      lines: [['create', [{ type: 'remainder', relativedeltas: [['create', [{ days }]]] }]]],
    });
    progress(`payment term ${termName} created`);
  }

  // 6. the taxes
  const taxes: Record<string, number> = {};
  for (const tax of options.taxes) {
    const [found] = await searchRead(
      client,
      'account.tax',
      [
        ['company', '=', companyId],
        ['name', '=', tax.code],
      ],
      ['rate', 'type'],
      1,
    );
    if (found) {
      const rate = found.rate as TrytonDecimal | null;
      if (found.type !== 'percentage' || !rate || Number(rate.value) !== Number(tax.rate)) {
        throw new TrytonError(
          'TRYTON_REFUSED',
          `Tryton's tax ${tax.code} exists with rate ${rate?.value ?? 'none'} (${String(found.type)}), not ${tax.rate}: a tax's rate is not changed in place`,
        );
      }
      taxes[tax.code] = found.id;
      continue;
    }
    taxes[tax.code] = await createOne(client, 'account.tax', {
      name: tax.code,
      description: tax.code,
      company: companyId,
      type: 'percentage',
      rate: decimal(tax.rate),
      invoice_account: chart.tax,
      credit_note_account: chart.tax,
    });
    progress(`tax ${tax.code} (${tax.rate}) created`);
  }

  // 7. a payment method for the pay wizard
  const methodName = 'Cash';
  let paymentMethodId = await findId(client, 'account.invoice.payment.method', [
    ['company', '=', companyId],
    ['name', '=', methodName],
  ]);
  if (paymentMethodId === null) {
    const journal = await xmlId(client, 'account', 'journal_cash');
    paymentMethodId = await createOne(client, 'account.invoice.payment.method', {
      company: companyId,
      name: methodName,
      journal,
      credit_account: chart.cash,
      debit_account: chart.cash,
    });
    progress('payment method Cash created');
  }

  progress('Tryton is prepared');
  return {
    companyId,
    currencyId,
    accounts: chart,
    fiscalYearId,
    periodIds,
    paymentTermId,
    taxes,
    paymentMethodId,
  };
}

async function findAccounts(client: TrytonClient, companyId: number): Promise<TrytonAccounts | null> {
  const byName = async (name: string) =>
    findId(client, 'account.account', [
      ['company', '=', companyId],
      ['name', '=', name],
    ]);
  const [receivable, payable, revenue, expense, cash, tax] = await Promise.all(
    ['Main Receivable', 'Main Payable', 'Main Revenue', 'Main Expense', 'Main Cash', 'Main Tax'].map(byName),
  );
  if (
    receivable == null ||
    payable == null ||
    revenue == null ||
    expense == null ||
    cash == null ||
    tax == null
  )
    return null;
  return { receivable, payable, revenue, expense, cash, tax };
}
