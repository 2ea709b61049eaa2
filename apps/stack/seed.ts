import { addDays, addMonthsClamped, daysBetween, formatMinor, parseDecimal } from '@c2c/platform/core';
import { sql } from 'kysely';
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
  /** Requests in flight at once while creating customers, subscriptions and payments (default 4). */
  concurrency?: number;
  /** Called after each unit of work: `done` of `total`, and what is being done. */
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

/** Runs `work` over `items` with at most `limit` at once; the first failure rejects (the rest finish). */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  let failure: unknown = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const index = next++;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== null) throw failure;
}

/**
 * True when the CRM holds no account yet: the demo book is seeded only into an empty book. Asked
 * through the gateway like every other step of the seed (the registered customer list, one row).
 */
export async function bookIsEmpty(gatewayUrl: string, headers: Record<string, string>): Promise<boolean> {
  const gql = client(gatewayUrl, headers);
  const data = await gql<{ customers: { totalCount: number } }>(operation('portal.Customers'), { first: 1 });
  return data.customers.totalCount === 0;
}

/** The months of the billing run (the year up to today) plus one step each for plans and the end. */
const BILLING_MONTHS = 12;

/** How many progress units a seed of `customers` counts (onProgress's `total`). */
export function seedUnits(customers: number): number {
  return 1 + customers * 3 + BILLING_MONTHS;
}

/**
 * Seeds a realistic demo book through the gateway with the registered client operations, exactly
 * as the admin screens, billing run and finance team would: customers across business units and
 * currencies, plans, subscriptions started over the last year, the billing run up to today, and
 * payments (most invoices paid, some partially, recent ones open).
 *
 * The book is a function of (`customers`, `today`) alone, and every write carries an idempotency
 * key derived from it, so running the seed again with the same two values — after an
 * interruption, say — recreates nothing: what was done is answered from its idempotency record
 * and the rest is done. Independent writes go `concurrency` at a time.
 */
export async function seedDemoBook(options: SeedOptions): Promise<SeedSummary> {
  const gql = client(options.gatewayUrl, options.headers ?? {});
  const rnd = random(20261125);
  const limit = options.concurrency ?? 4;
  const progress = options.onProgress ?? (() => {});
  const total = seedUnits(options.customers);
  let done = 0;
  const tick = (stage: string) => progress(++done, total, stage);

  // Every random choice is drawn here, in one fixed order, before any request: the concurrent
  // requests below then cannot change the book.
  const planned = Array.from({ length: options.customers }, (_, i) => {
    const market = MARKETS[i % MARKETS.length] as Market;
    const name =
      `${rnd.pick(NAMES_A)} ${rnd.pick(NAMES_B)} ${SUFFIX[market.country] ?? ''} #${i + 1}`.replace(
        /\s+/g,
        ' ',
      );
    return { index: i, market, name };
  });
  const subscriptionsPlanned = planned.map(({ market }) => {
    const enterprise = market.businessUnit.endsWith('ENTERPRISE');
    const tier = enterprise && rnd.next() < 0.5 ? 2 : rnd.int(0, 1);
    const startDate = addDays(addMonthsClamped(options.today, -12), rnd.int(0, 360));
    const seats = enterprise ? rnd.int(20, 400) : rnd.int(1, 25);
    return { tier, startDate, seats, paymentSeed: Math.floor(rnd.next() * 2 ** 32) };
  });

  const plans = new Map<string, string[]>();
  const planInputs = Object.entries(PRICES).flatMap(([currency, [starter, pro, enterprise]]) => {
    const codes: string[] = [];
    plans.set(currency, codes);
    return (
      [
        ['STARTER', 'MONTH', starter],
        ['PRO', 'MONTH', pro],
        ['ENTERPRISE', 'YEAR', enterprise],
      ] as const
    ).map(([tier, period, price]) => {
      const code = `${tier}-${period === 'MONTH' ? 'MONTHLY' : 'YEARLY'}-${currency}`;
      codes.push(code);
      return {
        code,
        name: `${tier[0]}${tier.slice(1).toLowerCase()} (${currency})`,
        billingPeriod: period,
        unitPrice: { amount: price, currency },
        idempotencyKey: `seed-plan-${code}`,
      };
    });
  });
  progress(done, total, 'plans');
  await inParallel(planInputs, limit, async (input) => {
    const result = await gql<{ createPlan: Payload }>(operation('admin.CreatePlan'), { input });
    expectOk(`createPlan ${input.code}`, result.createPlan);
  });
  tick('plans');

  const customers: { id: string; market: Market }[] = new Array(planned.length);
  await inParallel(planned, limit, async ({ index: i, market, name }) => {
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
    customers[i] = { id: expectOk('createCustomer', result.createCustomer).customer.id, market };
    tick('customers');
  });

  let subscriptions = 0;
  await inParallel(customers, limit, async (customer, index) => {
    const codes = plans.get(customer.market.currency) as string[];
    const { tier, startDate, seats } = subscriptionsPlanned[index]!;
    const input = {
      customerId: customer.id,
      planCode: codes[tier] as string,
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
  });

  // The billing run, month by month as finance would have run it over the year: one step each.
  let renewedPeriods = 0;
  for (let month = BILLING_MONTHS - 1; month >= 0; month--) {
    const asOf = addMonthsClamped(options.today, -month);
    progress(done, total, `billing run ${asOf}`);
    const renewal = await gql<{ renewSubscriptions: Payload & { renewedCount: number } }>(
      operation('billing.RenewSubscriptions'),
      { asOf, idempotencyKey: `seed-renewal-${asOf}` },
    );
    renewedPeriods += expectOk('renewSubscriptions', renewal.renewSubscriptions).renewedCount;
    tick(`billing run ${asOf}`);
  }

  let payments = 0;
  const view = operation('portal.CustomerToCash');
  await inParallel(customers, limit, async (customer, index) => {
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
    // This customer's own sequence, so the order customers are reached in changes nothing.
    const own = random(subscriptionsPlanned[index]!.paymentSeed);
    const behaviour = own.next();
    for (const invoice of nodes) {
      if (invoice.kind !== 'INVOICE' || !invoice.amountDue) continue;
      const age = daysBetween(invoice.issuedOn, options.today);
      if (age < 20) continue; // recent invoices stay open
      if (behaviour < 0.12 && age < 120) continue; // slow payers: overdue invoices
      const partial = behaviour > 0.94 && age < 60;
      const receivedAfter = own.int(3, 28);
      // From the invoice's total, not what is still due: a second run sends the very same payment,
      // which its idempotency key answers without paying twice.
      const { currency } = invoice.total;
      const totalMinor = parseDecimal(invoice.total.amount, currency);
      if (totalMinor <= 0) continue;
      const amount = partial ? formatMinor(Math.floor(totalMinor / 2), currency) : invoice.total.amount;
      const result = await gql<{ recordPayment: Payload }>(operation('finance.RecordPayment'), {
        input: {
          invoiceId: invoice.id,
          amount: { amount, currency },
          receivedOn: addDays(invoice.issuedOn, Math.min(age, receivedAfter)),
          reference: `BANK-${invoice.id.slice(0, 8).toUpperCase()}`,
          idempotencyKey: `seed-payment-${invoice.id}`,
        },
      });
      expectOk('recordPayment', result.recordPayment);
      payments++;
    }
    tick('payments');
  });
  return {
    customers: customers.length,
    plans: [...plans.values()].flat().length,
    subscriptions,
    renewedPeriods,
    payments,
  };
}

/** The demo seed's durable record: written before its first write, completed after its last. */
export interface SeedRecord {
  customers: number;
  /** The book's "today" the seed was started with; a resumed seed uses it again. */
  today: string;
  startedAt: Date;
  completedAt: Date | null;
}

const SEED_TABLE = sql`public.c2c_demo_seed`;

async function ensureSeedTable(db: AnyDb): Promise<void> {
  await sql`create table if not exists ${SEED_TABLE} (
    id smallint primary key check (id = 1),
    customers integer not null,
    today text not null,
    started_at timestamptz not null default now(),
    completed_at timestamptz
  )`.execute(db);
}

/** What the database says of the demo seed: null when none was ever started there. */
export async function seedRecord(db: AnyDb): Promise<SeedRecord | null> {
  await ensureSeedTable(db);
  const { rows } = await sql<{
    customers: number;
    today: string;
    started_at: Date | string;
    completed_at: Date | string | null;
  }>`select customers, today, started_at, completed_at from ${SEED_TABLE} where id = 1`.execute(db);
  const row = rows[0];
  if (!row) return null;
  return {
    customers: Number(row.customers),
    today: row.today,
    startedAt: new Date(row.started_at),
    completedAt: row.completed_at === null ? null : new Date(row.completed_at),
  };
}

/** Records that a seed of (`customers`, `today`) starts: until `recordSeedCompleted`, it is unfinished. */
export async function recordSeedStarted(
  db: AnyDb,
  seed: { customers: number; today: string },
): Promise<void> {
  await ensureSeedTable(db);
  await sql`insert into ${SEED_TABLE} (id, customers, today) values (1, ${seed.customers}, ${seed.today})
    on conflict (id) do update set customers = excluded.customers, today = excluded.today,
      started_at = now(), completed_at = null`.execute(db);
}

/** Records that the demo book is complete (the seed's last write has been answered). */
export async function recordSeedCompleted(db: AnyDb): Promise<void> {
  await sql`update ${SEED_TABLE} set completed_at = now() where id = 1`.execute(db);
}
