/**
 * Customer parties and customer invoices in Tryton over JSON-RPC, keyed by OUR ids so a retry
 * finds what the first attempt made:
 * - a customer is a `party.party` whose `code` is our customer id (Tryton keeps codes unique:
 *   `party.party` has a `code_uniq` constraint), with one empty `party.address` (an invoice needs
 *   an invoice address);
 * - an invoice is an `account.invoice` of type `out` whose `reference` is our invoice id.
 *
 * Amounts are decimal strings both ways (Tryton's `Decimal` on the wire); quantities are numbers
 * (`account.invoice.line.quantity` is a Float in Tryton 6.0); dates are `YYYY-MM-DD`.
 */
import { TrytonDate, TrytonDecimal, TrytonError, date, decimal, type TrytonClient } from './client.ts';
import { xmlId, type TrytonSetup } from './setup.ts';

export interface CustomerInput {
  /** Our customer id; stored as the party's `code`. */
  id: string;
  name: string;
}

export interface InvoiceLineInput {
  description: string;
  quantity: number;
  /** Decimal string in the invoice currency, e.g. `"49.90"`. */
  unitPrice: string;
  /** Tryton account id; default the setup's revenue account. */
  accountId?: number;
  /** Our tax codes (as given to prepareTryton). */
  taxCodes: readonly string[];
}

export interface CustomerInvoiceInput {
  /** Our invoice id; stored as the invoice's `reference`. */
  id: string;
  customer: CustomerInput;
  /** `YYYY-MM-DD`; Tryton posts into the period containing it. */
  invoiceDate: string;
  description?: string;
  lines: readonly InvoiceLineInput[];
}

export interface TrytonInvoiceLine {
  id: number;
  description: string;
  quantity: number;
  unitPrice: string;
  amount: string;
  accountId: number;
  taxIds: number[];
}

export type TrytonInvoiceState = 'draft' | 'validated' | 'posted' | 'paid' | 'cancelled';

export interface TrytonInvoice {
  id: number;
  /** Tryton's number (set when posted), e.g. `2026/1`. */
  number: string | null;
  /** Our invoice id. */
  reference: string | null;
  state: TrytonInvoiceState;
  partyId: number;
  invoiceDate: string | null;
  untaxedAmount: string;
  taxAmount: string;
  totalAmount: string;
  amountToPay: string;
  moveId: number | null;
  lines: TrytonInvoiceLine[];
}

type Row = Record<string, unknown> & { id: number };

/** A Tryton Decimal as a string with at least 2 decimals (Tryton answers `0` for a paid invoice's amount to pay). */
function money(v: unknown): string {
  const text = v instanceof TrytonDecimal ? v.value : v === null || v === undefined ? '0' : String(v);
  const [whole, fraction = ''] = text.split('.');
  return `${whole}.${fraction.padEnd(2, '0')}`;
}

/** Finds the party whose code is our customer id, or creates it (with an address). One party however often called. */
export async function ensureCustomer(
  client: TrytonClient,
  customer: CustomerInput,
): Promise<{ partyId: number; created: boolean }> {
  const find = async () => {
    // active_test false: an archived party still holds the code.
    const ids = await client.call<number[]>(
      'party.party',
      'search',
      [[['code', '=', customer.id]], 0, 1, null],
      { active_test: false },
    );
    return ids[0] ?? null;
  };
  const found = await find();
  if (found !== null) return { partyId: found, created: false };
  try {
    const [partyId] = await client.call<number[]>('party.party', 'create', [
      [{ name: customer.name, code: customer.id, addresses: [['create', [{}]]] }],
    ]);
    if (typeof partyId !== 'number')
      throw new TrytonError('TRYTON_PROTOCOL', 'party.party.create answered no id');
    return { partyId, created: true };
  } catch (error) {
    // Another attempt created it between our search and create: the unique code refused ours.
    const again = await find();
    if (again !== null) return { partyId: again, created: false };
    throw error;
  }
}

async function findInvoice(
  client: TrytonClient,
  setup: TrytonSetup,
  reference: string,
): Promise<number | null> {
  const ids = await client.call<number[]>('account.invoice', 'search', [
    [
      ['company', '=', setup.companyId],
      ['type', '=', 'out'],
      ['reference', '=', reference],
    ],
    0,
    2,
    null,
  ]);
  if (ids.length > 1) {
    throw new TrytonError(
      'TRYTON_REFUSED',
      `Tryton holds ${ids.length} customer invoices with reference ${reference}`,
    );
  }
  return ids[0] ?? null;
}

/**
 * Finds the customer invoice whose reference is our id, or creates it as a draft with its lines and
 * computed tax lines. Does not post (see postInvoice / submitCustomerInvoice).
 */
export async function ensureCustomerInvoice(
  client: TrytonClient,
  setup: TrytonSetup,
  input: CustomerInvoiceInput,
): Promise<{ invoiceId: number; created: boolean }> {
  const existing = await findInvoice(client, setup, input.id);
  if (existing !== null) return { invoiceId: existing, created: false };
  const { partyId } = await ensureCustomer(client, input.customer);
  const [party] = await client.call<Row[]>('party.party', 'read', [[partyId], ['addresses']]);
  const addressId = (party?.addresses as number[] | undefined)?.[0];
  if (addressId === undefined)
    throw new TrytonError('TRYTON_REFUSED', `Tryton's party ${input.customer.id} has no address to invoice`);
  const journal = await xmlId(client, 'account', 'journal_revenue');
  const lines = input.lines.map((line) => {
    const taxIds = line.taxCodes.map((code) => {
      const id = setup.taxes[code];
      if (id === undefined)
        throw new TypeError(
          `unknown tax code ${code} (prepareTryton was given ${Object.keys(setup.taxes).join(', ')})`,
        );
      return id;
    });
    return {
      type: 'line',
      company: setup.companyId,
      currency: setup.currencyId,
      description: line.description,
      quantity: line.quantity,
      unit_price: decimal(line.unitPrice),
      account: line.accountId ?? setup.accounts.revenue,
      taxes: [['add', taxIds]],
    };
  });
  const [invoiceId] = await client.call<number[]>('account.invoice', 'create', [
    [
      {
        type: 'out',
        company: setup.companyId,
        currency: setup.currencyId,
        party: partyId,
        invoice_address: addressId,
        account: setup.accounts.receivable,
        journal,
        payment_term: setup.paymentTermId,
        invoice_date: date(input.invoiceDate),
        reference: input.id,
        description: input.description ?? null,
        lines: [['create', lines]],
      },
    ],
  ]);
  if (typeof invoiceId !== 'number')
    throw new TrytonError('TRYTON_PROTOCOL', 'account.invoice.create answered no id');
  // Tryton computes an invoice's tax lines on write (Invoice.write → update_taxes), not on create;
  // posting an invoice whose tax lines are missing fails with "taxes … are not valid".
  await client.call('account.invoice', 'write', [[invoiceId], { reference: input.id }]);
  return { invoiceId, created: true };
}

/**
 * The warnings posting accepts: a payment date in the past (`invoice_payment_term_<id>`), which is
 * ordinary when the ERP posts what billing issued earlier. Any other warning refuses the post.
 */
export const acceptedPostWarnings = (warning: { name: string }): boolean =>
  /^invoice_payment_term_\d+$/.test(warning.name);

/** Posts a draft or validated invoice (`account.invoice.post`); a posted or paid one is left alone. */
export async function postInvoice(client: TrytonClient, invoiceId: number): Promise<TrytonInvoice> {
  const before = await readInvoice(client, invoiceId);
  if (before.state === 'draft' || before.state === 'validated') {
    await client.callAcceptingWarnings('account.invoice', 'post', [[invoiceId]], acceptedPostWarnings);
    return readInvoice(client, invoiceId);
  }
  if (before.state === 'cancelled')
    throw new TrytonError('TRYTON_REFUSED', `Tryton's invoice ${before.number ?? invoiceId} is cancelled`);
  return before;
}

/** Finds or creates, then posts: the one call a retry may repeat safely. */
export async function submitCustomerInvoice(
  client: TrytonClient,
  setup: TrytonSetup,
  input: CustomerInvoiceInput,
): Promise<TrytonInvoice & { created: boolean }> {
  const { invoiceId, created } = await ensureCustomerInvoice(client, setup, input);
  return { ...(await postInvoice(client, invoiceId)), created };
}

export async function readInvoice(client: TrytonClient, invoiceId: number): Promise<TrytonInvoice> {
  const [row] = await client.call<Row[]>('account.invoice', 'read', [
    [invoiceId],
    [
      'number',
      'reference',
      'state',
      'party',
      'invoice_date',
      'untaxed_amount',
      'tax_amount',
      'total_amount',
      'amount_to_pay',
      'move',
      'lines',
    ],
  ]);
  if (!row) throw new TrytonError('TRYTON_REFUSED', `Tryton has no invoice ${invoiceId}`);
  const lineRows = await client.call<Row[]>('account.invoice.line', 'read', [
    row.lines as number[],
    ['description', 'quantity', 'unit_price', 'amount', 'account', 'taxes'],
  ]);
  return {
    id: row.id,
    number: (row.number as string | null) ?? null,
    reference: (row.reference as string | null) ?? null,
    state: row.state as TrytonInvoiceState,
    partyId: row.party as number,
    invoiceDate: row.invoice_date instanceof TrytonDate ? row.invoice_date.toString() : null,
    untaxedAmount: money(row.untaxed_amount),
    taxAmount: money(row.tax_amount),
    totalAmount: money(row.total_amount),
    amountToPay: money(row.amount_to_pay),
    moveId: (row.move as number | null) ?? null,
    lines: lineRows
      .map((l) => ({
        id: l.id,
        description: String(l.description ?? ''),
        quantity: Number(l.quantity),
        unitPrice: money(l.unit_price),
        amount: money(l.amount),
        accountId: l.account as number,
        taxIds: (l.taxes as number[]) ?? [],
      }))
      .sort((a, b) => a.id - b.id),
  };
}

export interface PaymentInput {
  /** Default: the whole amount to pay. */
  amount?: string;
  /** `YYYY-MM-DD`; the payment move's date (its period must be open). */
  date: string;
  /** Our payment id or reference; becomes the payment move's description. */
  description?: string;
}

/**
 * Pays a posted invoice with the `account.invoice.pay` wizard (payment method from prepareTryton):
 * the wizard posts a cash move and reconciles it with the receivable line when the amount settles
 * the invoice, which turns it `paid`. A paid invoice is left alone (a retry pays nothing twice);
 * an amount below what is due is paid as a partial payment.
 */
export async function payInvoice(
  client: TrytonClient,
  setup: TrytonSetup,
  invoiceId: number,
  payment: PaymentInput,
): Promise<TrytonInvoice> {
  const before = await readInvoice(client, invoiceId);
  if (before.state === 'paid') return before;
  if (before.state !== 'posted') {
    throw new TrytonError(
      'TRYTON_REFUSED',
      `Tryton's invoice ${before.number ?? invoiceId} is ${before.state}, not posted: it cannot be paid`,
    );
  }
  const context = { active_model: 'account.invoice', active_id: invoiceId, active_ids: [invoiceId] };
  const wizard = 'account.invoice.pay';
  const [sessionId] = await client.wizard<[number, string, string]>(wizard, 'create', [], context);
  try {
    const start = await client.wizard<{ view?: { defaults?: Record<string, unknown> } }>(
      wizard,
      'execute',
      [sessionId, {}, 'start'],
      context,
    );
    const defaults = start.view?.defaults ?? {};
    const values = {
      currency: defaults.currency,
      amount: payment.amount === undefined ? defaults.amount : decimal(payment.amount),
      payment_method: setup.paymentMethodId,
      date: date(payment.date),
      description: payment.description ?? null,
    };
    const choice = await client.wizard<{ view?: { state?: string; defaults?: Record<string, unknown> } }>(
      wizard,
      'execute',
      [sessionId, { start: values }, 'choice'],
      context,
    );
    if (choice.view?.state === 'ask') {
      // The amount does not settle the invoice: pay it as a partial payment.
      // Defaults carry display keys such as `company.` (a record's rec_name) that are no fields.
      const ask = { ...fieldsOnly(choice.view.defaults ?? {}), type: 'partial' };
      await client.wizard(wizard, 'execute', [sessionId, { start: values, ask }, 'pay'], context);
    }
  } finally {
    await client.wizard(wizard, 'delete', [sessionId], context).catch(() => undefined);
  }
  return readInvoice(client, invoiceId);
}

function fieldsOnly(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([key]) => !key.includes('.')));
}
