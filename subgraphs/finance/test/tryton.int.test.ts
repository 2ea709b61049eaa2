// The Tryton adapter's groundwork against a real Tryton server: skipped unless TRYTON_URL is set.
// scripts/tryton/server.sh --fresh prints it (a database copied from the prepared template).
// Every id is unique per run, so the test also passes on a database an earlier run prepared.
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  TrytonClient,
  TrytonDate,
  TrytonDecimal,
  TrytonError,
  decodeTryton,
  encodeTryton,
  parseTrytonUrl,
} from '../src/ports/tryton/client.ts';
import {
  ensureCustomer,
  ensureCustomerInvoice,
  payInvoice,
  postInvoice,
  submitCustomerInvoice,
} from '../src/ports/tryton/invoices.ts';
import { prepareTryton, type PrepareTrytonOptions, type TrytonSetup } from '../src/ports/tryton/setup.ts';

const TRYTON_URL = process.env.TRYTON_URL;
const YEAR = new Date().getUTCFullYear();
const run = randomUUID().slice(0, 8);

const OPTIONS: PrepareTrytonOptions = {
  companyName: 'C2C Integration Test Co',
  currency: 'USD',
  fiscalYear: YEAR,
  taxes: [
    { code: 'VAT20', rate: '0.20' },
    { code: 'VAT5', rate: '0.05' },
  ],
};

/** A port nothing listens on: bound by the OS, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function refusal(promise: Promise<unknown>): Promise<TrytonError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TrytonError);
  return error as TrytonError;
}

describe('Tryton wire encodings and TRYTON_URL (no server needed)', () => {
  it('round-trips Decimal and date as Tryton tags them', () => {
    const wire = encodeTryton({ amount: new TrytonDecimal('12.30'), on: TrytonDate.parse('2026-03-05') });
    expect(JSON.parse(wire)).toEqual({
      amount: { __class__: 'Decimal', decimal: '12.30' },
      on: { __class__: 'date', year: 2026, month: 3, day: 5 },
    });
    const back = decodeTryton(wire) as { amount: TrytonDecimal; on: TrytonDate };
    expect(back.amount.value).toBe('12.30');
    expect(back.on.toString()).toBe('2026-03-05');
  });

  it('names what is wrong with TRYTON_URL and never prints the password', () => {
    expect(parseTrytonUrl('http://admin:s3cret@127.0.0.1:8000/c2c_tryton')).toMatchObject({
      endpoint: 'http://127.0.0.1:8000/c2c_tryton/',
      database: 'c2c_tryton',
      login: 'admin',
      display: 'admin@127.0.0.1:8000/c2c_tryton',
    });
    const messages = [
      'http://admin:s3cret@127.0.0.1:8000/',
      'http://127.0.0.1:8000/db',
      'postgres://admin:s3cret@h/db',
      'http://admin@h:1/db',
      'nonsense',
    ].map((url) => {
      try {
        parseTrytonUrl(url);
        return 'parsed';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(messages[0]).toMatch(/path must be exactly the DATABASE/);
    expect(messages[1]).toMatch(/no USER/);
    expect(messages[2]).toMatch(/scheme is postgres/);
    expect(messages[3]).toMatch(/no PASSWORD for admin/);
    expect(messages[4]).toMatch(/not a URL/);
    for (const m of messages) expect(m).not.toContain('s3cret');
  });
});

describe.skipIf(!TRYTON_URL)('Tryton over JSON-RPC (TRYTON_URL)', () => {
  const client = new TrytonClient(TRYTON_URL ?? 'http://u:p@127.0.0.1:1/none', { timeoutMs: 30_000 });
  let setup: TrytonSetup;

  beforeAll(async () => {
    setup = await prepareTryton(client, OPTIONS);
  }, 120_000);

  it('prepareTryton is idempotent: a second run finds everything and answers the same ids', async () => {
    const steps: string[] = [];
    const again = await prepareTryton(client, { ...OPTIONS, onProgress: (s) => steps.push(s) });
    expect(again).toEqual(setup);
    expect(steps.filter((s) => s.includes('created'))).toEqual([]);
    expect(setup.periodIds).toHaveLength(12);
    expect(Object.keys(setup.taxes)).toEqual(['VAT20', 'VAT5']);
  });

  it('one party per customer id, however often it is ensured', async () => {
    const customer = { id: `cust-${run}`, name: `Acme ${run}` };
    const first = await ensureCustomer(client, customer);
    const second = await ensureCustomer(client, customer);
    expect(first.created).toBe(true);
    expect(second).toEqual({ partyId: first.partyId, created: false });
    const ids = await client.call<number[]>('party.party', 'search', [
      [['code', '=', customer.id]],
      0,
      null,
      null,
    ]);
    expect(ids).toEqual([first.partyId]);
  });

  it('posts an invoice with two lines at two tax rates, exact to the cent; once however often submitted; then pays it', async () => {
    const input = {
      id: `inv-${run}`,
      customer: { id: `cust-inv-${run}`, name: `Initech ${run}` },
      invoiceDate: `${YEAR}-01-15`,
      lines: [
        // 3 × 33.33 = 99.99; 20 % of it = 19.998 → 20.00
        { description: 'Seats', quantity: 3, unitPrice: '33.33', taxCodes: ['VAT20'] },
        // 2 × 12.50 = 25.00; 5 % of it = 1.25
        { description: 'Support', quantity: 2, unitPrice: '12.50', taxCodes: ['VAT5'] },
      ],
    };
    const first = await submitCustomerInvoice(client, setup, input);
    expect(first).toMatchObject({
      created: true,
      state: 'posted',
      reference: input.id,
      invoiceDate: `${YEAR}-01-15`,
      untaxedAmount: '124.99',
      taxAmount: '21.25',
      totalAmount: '146.24',
      amountToPay: '146.24',
    });
    expect(first.number).toMatch(new RegExp(`^${YEAR}/\\d+$`));
    expect(first.lines.map((l) => [l.description, l.quantity, l.unitPrice, l.amount, l.taxIds])).toEqual([
      ['Seats', 3, '33.33', '99.99', [setup.taxes.VAT20]],
      ['Support', 2, '12.50', '25.00', [setup.taxes.VAT5]],
    ]);

    const second = await submitCustomerInvoice(client, setup, input);
    expect(second).toMatchObject({ created: false, id: first.id, number: first.number, state: 'posted' });
    const ids = await client.call<number[]>('account.invoice', 'search', [
      [['reference', '=', input.id]],
      0,
      null,
      null,
    ]);
    expect(ids).toEqual([first.id]);

    const paid = await payInvoice(client, setup, first.id, {
      date: `${YEAR}-01-20`,
      description: `pay-${run}`,
    });
    expect(paid).toMatchObject({ state: 'paid', amountToPay: '0.00', totalAmount: '146.24' });
    // Paying again pays nothing twice.
    expect(await payInvoice(client, setup, first.id, { date: `${YEAR}-01-21` })).toMatchObject({
      state: 'paid',
    });
  });

  it('rounds tax half-even, not HALF_UP: 5 % of 10.10 = 0.505 → 0.50 (our billing says 0.51)', async () => {
    const invoice = await submitCustomerInvoice(client, setup, {
      id: `inv-tie-${run}`,
      customer: { id: `cust-inv-${run}`, name: `Initech ${run}` },
      invoiceDate: `${YEAR}-01-15`,
      lines: [{ description: 'Book', quantity: 1, unitPrice: '10.10', taxCodes: ['VAT5'] }],
    });
    expect(invoice).toMatchObject({ untaxedAmount: '10.10', taxAmount: '0.50', totalAmount: '10.60' });
  });

  it('a wrong password is TRYTON_AUTH, and the message has no password', async () => {
    const url = new URL(TRYTON_URL ?? '');
    url.password = `wrong-${run}`;
    const error = await refusal(new TrytonClient(url.toString()).login());
    expect(error.code).toBe('TRYTON_AUTH');
    expect(error.message).toMatch(/wrong user or password/);
    expect(error.message).not.toContain(`wrong-${run}`);
  });

  it('a port nobody listens on is TRYTON_UNREACHABLE', async () => {
    const url = new URL(TRYTON_URL ?? '');
    url.port = String(await freePort()); // fetch refuses "bad ports" such as 1 before connecting
    const error = await refusal(new TrytonClient(url.toString(), { timeoutMs: 5_000 }).login());
    expect(error.code).toBe('TRYTON_UNREACHABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/unreachable.*ECONNREFUSED/);
  });

  it('an expired session is renewed once, transparently', async () => {
    // The next call carries a session the server does not know (as after its timeout): it answers
    // 401, the client logs in again and repeats the call.
    let expireNext = false;
    const logins: string[] = [];
    const expiring: typeof fetch = async (input, init) => {
      const body = String(init?.body ?? '');
      if (body.includes('common.db.login')) logins.push('login');
      const headers = new Headers(init?.headers);
      if (expireNext && headers.has('authorization')) {
        expireNext = false;
        headers.set('authorization', `Session ${Buffer.from('admin:1:expired-session').toString('base64')}`);
      }
      return fetch(input, { ...init, headers });
    };
    const other = new TrytonClient(TRYTON_URL ?? '', { fetch: expiring });
    await other.login();
    expireNext = true;
    expect(
      await other.call<number[]>('currency.currency', 'search', [[['code', '=', 'USD']], 0, 1, null]),
    ).toEqual([setup.currencyId]);
    expect(logins).toEqual(['login', 'login']);
  });

  it('posting into a year without a fiscal year is TRYTON_REFUSED with Tryton’s message', async () => {
    const { invoiceId } = await ensureCustomerInvoice(client, setup, {
      id: `inv-noperiod-${run}`,
      customer: { id: `cust-inv-${run}`, name: `Initech ${run}` },
      invoiceDate: '1990-01-15',
      lines: [{ description: 'Seats', quantity: 1, unitPrice: '10.00', taxCodes: ['VAT20'] }],
    });
    const error = await refusal(postInvoice(client, invoiceId));
    expect(error.code).toBe('TRYTON_REFUSED');
    expect(error.details.kind).toBe('UserError');
    expect(error.details.trytonMessage).toMatch(/period|fiscal year/i);
    expect(error.message).toContain(error.details.trytonMessage);
  });

  it('a line on an account that is no revenue account is TRYTON_REFUSED with Tryton’s message', async () => {
    const error = await refusal(
      ensureCustomerInvoice(client, setup, {
        id: `inv-badaccount-${run}`,
        customer: { id: `cust-inv-${run}`, name: `Initech ${run}` },
        invoiceDate: `${YEAR}-01-15`,
        lines: [
          {
            description: 'Seats',
            quantity: 1,
            unitPrice: '10.00',
            accountId: setup.accounts.cash,
            taxCodes: [],
          },
        ],
      }),
    );
    expect(error.code).toBe('TRYTON_REFUSED');
    expect(error.details.kind).toBe('UserError');
    expect(error.details.trytonMessage).toBeTruthy();
  });
});
