import { addDays, addMonthsClamped, daysBetween, formatMinor, parseDecimal } from '@c2c/platform/core';
import { type AnyDb } from '@c2c/platform/db';
import { operation } from '@c2c/schema/operations';

/** Deterministic pseudo-random numbers (mulberry32), so every demo book is the same. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}

interface Market {
  businessUnit: string;
  country: string;
  region?: string;
  currency: string;
}

const MARKETS: Market[] = [
  { businessUnit: 'NA-SMB', country: 'US', region: 'CA', currency: 'USD' },
  { businessUnit: 'NA-SMB', country: 'US', region: 'NY', currency: 'USD' },
  { businessUnit: 'NA-ENTERPRISE', country: 'US', region: 'TX', currency: 'USD' },
  { businessUnit: 'NA-ENTERPRISE', country: 'CA', region: 'ON', currency: 'CAD' },
  { businessUnit: 'EMEA-SMB', country: 'DE', currency: 'EUR' },
  { businessUnit: 'EMEA-SMB', country: 'FR', currency: 'EUR' },
  { businessUnit: 'EMEA-ENTERPRISE', country: 'GB', currency: 'GBP' },
  { businessUnit: 'EMEA-ENTERPRISE', country: 'NL', currency: 'EUR' },
  { businessUnit: 'EMEA-ENTERPRISE', country: 'BH', currency: 'BHD' },
  { businessUnit: 'APAC', country: 'JP', currency: 'JPY' },
  { businessUnit: 'APAC', country: 'AU', currency: 'AUD' },
];

/** Seat prices per currency: [starter monthly, pro monthly, enterprise yearly]. */
const PRICES: Record<string, [string, string, string]> = {
  USD: ['9.95', '29.00', '3000.00'],
  CAD: ['12.95', '39.00', '3900.00'],
  EUR: ['8.95', '27.00', '2800.00'],
  GBP: ['7.95', '24.00', '2500.00'],
  BHD: ['3.750', '11.000', '1130.000'],
  JPY: ['1500', '4200', '450000'],
  AUD: ['14.95', '44.00', '4500.00'],
};

const NAMES_A = [
  'Northwind',
  'Contoso',
  'Globex',
  'Initech',
  'Umbrella',
  'Stark',
  'Wayne',
  'Acme',
  'Hooli',
  'Vandelay',
  'Soylent',
  'Tyrell',
  'Cyberdyne',
  'Aperture',
  'Wonka',
  'Gringotts',
  'Oscorp',
  'Massive',
  'Pied Piper',
  'Dunder',
];
const NAMES_B = [
  'Analytics',
  'Logistics',
  'Foods',
  'Labs',
  'Systems',
  'Retail',
  'Health',
  'Energy',
  'Media',
  'Capital',
  'Robotics',
  'Travel',
];
const SUFFIX: Record<string, string> = {
  US: 'Inc.',
  CA: 'Ltd.',
  DE: 'GmbH',
  FR: 'SAS',
  GB: 'Ltd',
  NL: 'B.V.',
  BH: 'W.L.L.',
  JP: 'K.K.',
  AU: 'Pty Ltd',
};

export interface SeedOptions {
  gatewayUrl: string;
  customers: number;
  /** The book's "today": subscriptions start within the year before it. */
  today: string;
  headers?: Record<string, string>;
  onProgress?: (done: number, total: number, stage: string) => void;
}

export interface SeedSummary {
  customers: number;
  plans: number;
  subscriptions: number;
  renewedPeriods: number;
  payments: number;
}

type Gql = <T>(query: string, variables: Record<string, unknown>) => Promise<T>;

function client(url: string, headers: Record<string, string>): Gql {
  return async <T>(query: string, variables: Record<string, unknown>) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length)
      throw new Error(`GraphQL error: ${body.errors.map((e) => e.message).join('; ')}`);
    return body.data as T;
  };
}

interface Payload {
  userErrors: { code: string; message: string }[];
}

function expectOk<P extends Payload>(what: string, payload: P): P {
  if (payload.userErrors.length) {
    throw new Error(`${what}: ${payload.userErrors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
  }
  return payload;
}

/**
 * Seeds a realistic demo book through the gateway with the registered client operations, exactly
 * as the admin screens, billing run and finance team would: customers across business units and
 * currencies, plans, subscriptions started over the last year, the billing run up to today, and
 * payments (most invoices paid, some partially, recent ones open).
 */
/** True when the CRM holds no account yet: the demo book is seeded only into an empty book. */
export async function bookIsEmpty(db: AnyDb): Promise<boolean> {
  const row = await db
    .withSchema('customer')
    .selectFrom('customer')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n) === 0;
}

export async function seedDemoBook(options: SeedOptions): Promise<SeedSummary> {
  const gql = client(options.gatewayUrl, options.headers ?? {});
  const rnd = random(20261125);
  const progress = options.onProgress ?? (() => {});
  const total = options.customers * 3 + 1;
  let done = 0;
  const tick = (stage: string) => progress(++done, total, stage);

  const plans = new Map<string, string[]>();
  for (const [currency, [starter, pro, enterprise]] of Object.entries(PRICES)) {
    const codes: string[] = [];
    for (const [tier, period, price] of [
      ['STARTER', 'MONTH', starter],
      ['PRO', 'MONTH', pro],
      ['ENTERPRISE', 'YEAR', enterprise],
    ] as const) {
      const code = `${tier}-${period === 'MONTH' ? 'MONTHLY' : 'YEARLY'}-${currency}`;
      const result = await gql<{ createPlan: Payload }>(operation('admin.CreatePlan'), {
        input: {
          code,
          name: `${tier[0]}${tier.slice(1).toLowerCase()} (${currency})`,
          billingPeriod: period,
          unitPrice: { amount: price, currency },
          idempotencyKey: `seed-plan-${code}`,
        },
      });
      expectOk(`createPlan ${code}`, result.createPlan);
      codes.push(code);
    }
    plans.set(currency, codes);
  }

  const customers: { id: string; market: Market }[] = [];
  for (let i = 0; i < options.customers; i++) {
    const market = MARKETS[i % MARKETS.length] as Market;
    const name =
      `${rnd.pick(NAMES_A)} ${rnd.pick(NAMES_B)} ${SUFFIX[market.country] ?? ''} #${i + 1}`.replace(
        /\s+/g,
        ' ',
      );
    const result = await gql<{ createCustomer: Payload & { customer: { id: string } } }>(
      operation('admin.CreateCustomer'),
      {
        input: {
          name,
          email: `billing+${i + 1}@${name.split(' ')[0]?.toLowerCase()}.example`,
          country: market.country,
          ...(market.region ? { region: market.region } : {}),
          businessUnit: market.businessUnit,
          segment: market.businessUnit.endsWith('ENTERPRISE') ? 'ENTERPRISE' : 'SMB',
          idempotencyKey: `seed-customer-${i + 1}`,
        },
      },
    );
    customers.push({ id: expectOk('createCustomer', result.createCustomer).customer.id, market });
    tick('customers');
  }

  let subscriptions = 0;
  for (const [index, customer] of customers.entries()) {
    const codes = plans.get(customer.market.currency) as string[];
    const enterprise = customer.market.businessUnit.endsWith('ENTERPRISE');
    const planCode =
      enterprise && rnd.next() < 0.5 ? (codes[2] as string) : (rnd.pick(codes.slice(0, 2)) as string);
    const startDate = addDays(addMonthsClamped(options.today, -12), rnd.int(0, 360));
    const seats = enterprise ? rnd.int(20, 400) : rnd.int(1, 25);
    const input = {
      customerId: customer.id,
      planCode,
      seats,
      startDate,
      idempotencyKey: `seed-subscription-${index + 1}`,
    };
    // The bill-to replica follows customer.created asynchronously: retry while billing has not seen it.
    for (let attempt = 0; ; attempt++) {
      const result = await gql<{ createSubscription: Payload }>(operation('admin.CreateSubscription'), {
        input,
      });
      const error = result.createSubscription.userErrors[0];
      if (!error) break;
      if (error.code !== 'UNKNOWN_CUSTOMER' || attempt > 200)
        expectOk('createSubscription', result.createSubscription);
      await new Promise((r) => setTimeout(r, 50));
    }
    subscriptions++;
    tick('subscriptions');
  }

  // The billing run, month by month as finance would have run it over the year.
  let renewedPeriods = 0;
  for (let month = 11; month >= 0; month--) {
    const asOf = addMonthsClamped(options.today, -month);
    const renewal = await gql<{ renewSubscriptions: Payload & { renewedCount: number } }>(
      operation('billing.RenewSubscriptions'),
      { asOf, idempotencyKey: `seed-renewal-${asOf}` },
    );
    renewedPeriods += expectOk('renewSubscriptions', renewal.renewSubscriptions).renewedCount;
    progress(done, total, `billing run ${asOf}`);
  }
  tick('billing run');

  let payments = 0;
  const view = operation('portal.CustomerToCash');
  for (const customer of customers) {
    type Node = {
      id: string;
      kind: string;
      issuedOn: string;
      total: { amount: string; currency: string };
      posting: { status: string };
      amountDue: { amount: string; currency: string } | null;
    };
    // Wait until the ERP has posted every document of this customer (events are asynchronous).
    let nodes: Node[] = [];
    for (let attempt = 0; attempt < 400; attempt++) {
      const data = await gql<{ customer: { subscriptions: { invoices: { nodes: Node[] } }[] } }>(view, {
        customerId: customer.id,
        invoicesFirst: 100,
      });
      nodes = data.customer.subscriptions.flatMap((s) => s.invoices.nodes);
      if (nodes.every((n) => n.posting.status === 'POSTED' && n.amountDue)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const behaviour = rnd.next();
    for (const invoice of nodes) {
      if (invoice.kind !== 'INVOICE' || !invoice.amountDue) continue;
      const age = daysBetween(invoice.issuedOn, options.today);
      if (age < 20) continue; // recent invoices stay open
      if (behaviour < 0.12 && age < 120) continue; // slow payers: overdue invoices
      const partial = behaviour > 0.94 && age < 60;
      const due = invoice.amountDue.amount;
      const dueMinor = parseDecimal(due, invoice.amountDue.currency);
      const amount = partial ? formatMinor(Math.floor(dueMinor / 2), invoice.amountDue.currency) : due;
      if (dueMinor <= 0) continue;
      const result = await gql<{ recordPayment: Payload }>(operation('finance.RecordPayment'), {
        input: {
          invoiceId: invoice.id,
          amount: { amount, currency: invoice.amountDue.currency },
          receivedOn: addDays(invoice.issuedOn, Math.min(age, rnd.int(3, 28))),
          reference: `BANK-${invoice.id.slice(0, 8).toUpperCase()}`,
          idempotencyKey: `seed-payment-${invoice.id}`,
        },
      });
      expectOk('recordPayment', result.recordPayment);
      payments++;
    }
    tick('payments');
  }
  return {
    customers: customers.length,
    plans: [...plans.values()].flat().length,
    subscriptions,
    renewedPeriods,
    payments,
  };
}
