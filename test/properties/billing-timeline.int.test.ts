import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFinanceSubgraph } from '@c2c/finance';
import { addDays, daysBetween, divideHalfUp, toDayNumber, type IsoDate } from '@c2c/platform/core';
import {
  fixedClock,
  graphql,
  propertySettings,
  startTestSubgraphs,
  unique,
  waitFor,
  type TestSubgraphs,
} from '@c2c/platform/testing';
import { buildSubscriptionSubgraph } from '@c2c/subscription';

// Property-based tests over random timelines of one subscription (docs/billing-rules.md):
// amendments (in the period, back-dated, at its end), immediate cancellations, renewals, payments
// and tax-table changes, against billing and the ERP running together on one database. Each step
// is first previewed, then made: the preview must equal what the amendment issues. At the end the
// invariants must hold: per period the documents net to the seat-days' cost; a credit never
// reverses more at a rate than was billed at it; every journal entry balances; receivable =
// documents − payments; revenue schedules sum to the net subtotals; amountDue ≥ 0 and
// overdue ≤ balance. A fixed seed by default; FC_SEED=<n>|random and FC_RUNS=<n> run them longer.
const settings = propertySettings(8);

const OPERATIONS = join(import.meta.dirname, '..', '..', 'schema', 'operations');
const PREVIEW = readFileSync(join(OPERATIONS, 'support.PreviewAmendment.graphql'), 'utf8');
const CREATE_PLAN = readFileSync(join(OPERATIONS, 'admin.CreatePlan.graphql'), 'utf8');
const CREATE_SUBSCRIPTION = readFileSync(join(OPERATIONS, 'admin.CreateSubscription.graphql'), 'utf8');
// finance.RecordPayment asks for the invoice's status, which billing serves: sent to the ERP alone, less.
const RECORD_PAYMENT = `mutation ($input: RecordPaymentInput!) { recordPayment(input: $input) {
  payment { id } userErrors { code } } }`;
const RENEW = readFileSync(join(OPERATIONS, 'billing.RenewSubscriptions.graphql'), 'utf8');
const DOCUMENT = `id kind subtotal { amount } tax { amount } total { amount }
  lines { description quantity periodStart periodEnd amount { amount currency } }`;
const AMEND = `mutation ($input: AmendSubscriptionInput!) { amendSubscription(input: $input) {
  amendment { invoice { ${DOCUMENT} } creditNote { ${DOCUMENT} } } userErrors { code } } }`;
const CANCEL = `mutation ($input: CancelSubscriptionInput!) { cancelSubscription(input: $input) {
  amendment { id } userErrors { code } } }`;
const RECEIVABLE = `query ($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Customer { receivable { balance { amount } overdue { amount } } } } }`;

const TODAY = '2026-12-01';
const START = '2026-01-01' as IsoDate;
const RATES = [0, 70_000, 100_000, 190_000, 200_000, 250_000];

type Data = any;
type Action =
  | { type: 'amend'; day: number; seats: number; atEnd: boolean }
  | { type: 'cancel'; day: number }
  | { type: 'renew' }
  | { type: 'pay'; percent: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      type: fc.constant('amend' as const),
      day: fc.nat(30),
      seats: fc.integer({ min: 1, max: 12 }),
      atEnd: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('cancel' as const), day: fc.nat(30) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('renew' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('pay' as const), percent: fc.integer({ min: 1, max: 100 }) }),
  },
);
const timeline = fc.record({
  unitPriceMinor: fc.integer({ min: 1, max: 200_000 }),
  seats: fc.integer({ min: 1, max: 10 }),
  firstRate: fc.constantFrom(...RATES),
  // Tax-table changes: [day after START, new rate], applied in date order.
  rateChanges: fc.array(fc.tuple(fc.integer({ min: 1, max: 150 }), fc.constantFrom(...RATES)), {
    maxLength: 3,
  }),
  actions: fc.array(action, { minLength: 1, maxLength: 9 }),
});

const minor = (amount: string) => {
  const [whole, fraction = ''] = amount.replace('-', '').split('.');
  const value = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  return amount.startsWith('-') ? -value : value;
};
const decimal = (value: number) => `${Math.floor(value / 100)}.${String(value % 100).padStart(2, '0')}`;
const monthAfter = (date: IsoDate, months: number): IsoDate => {
  const [y, m] = date.split('-').map(Number) as [number, number];
  const index = y * 12 + (m - 1) + months;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}-01` as IsoDate;
};

describe('billing timelines (property)', () => {
  let stack: TestSubgraphs;
  let billing: string;
  let finance: string;
  let countrySeq = 0;
  const support = { 'x-c2c-caller': 'support-tool' };
  const db = () => stack.database.db;

  /** Until every outbox row is relayed and every delivery handled; a dead letter fails the test. */
  const drained = async () => {
    await waitFor(
      async () => {
        const { rows } = await sql<{ busy: number; dead: number }>`select
            (select count(*) from subscription.outbox where published_at is null)
          + (select count(*) from finance.outbox where published_at is null)
          + (select count(*) from bus.delivery where state = 'pending') as busy,
            (select count(*) from bus.delivery where state = 'dead') as dead`.execute(db());
        if (Number(rows[0]?.dead) > 0) throw new Error('an event was dead-lettered');
        return Number(rows[0]?.busy) === 0;
      },
      20_000,
      'events to drain',
    );
  };

  beforeAll(async () => {
    stack = await startTestSubgraphs([buildSubscriptionSubgraph, buildFinanceSubgraph], {
      clock: fixedClock(`${TODAY}T12:00:00Z`),
    });
    billing = stack.url('subscription');
    finance = stack.url('finance');
  });
  afterAll(() => stack?.close());

  it('keeps every period exact, every preview equal to its amendment and the ledger consistent', async () => {
    await fc.assert(
      fc.asyncProperty(timeline, async (t) => {
        // A country of its own for this timeline's tax table.
        const n = countrySeq++;
        const country = `${String.fromCharCode(81 + Math.floor(n / 26))}${String.fromCharCode(65 + (n % 26))}`; // QA…
        const changes = [...t.rateChanges]
          .sort((a, b) => a[0] - b[0])
          .filter((c, i, all) => i === 0 || c[0] !== all[i - 1]![0]);
        const bounds = ['2000-01-01', ...changes.map(([day]) => addDays(START, day))];
        const rates = [t.firstRate, ...changes.map(([, rate]) => rate)];
        await db()
          .withSchema('subscription')
          .insertInto('tax_rate')
          .values(
            bounds.map((from, i) => ({
              country,
              region: null,
              rate_ppm: rates[i]!,
              valid_from: from,
              valid_to: bounds[i + 1] ?? null,
            })),
          )
          .execute();

        const customerId = randomUUID();
        const customer = {
          id: customerId,
          name: unique('Prop'),
          email: 'p@example.com',
          status: 'ACTIVE',
          businessUnit: 'EMEA',
          segment: null,
          country,
          region: null,
          parentId: null,
          version: 1,
        };
        await stack.transport.publish([
          {
            specversion: '1.0',
            id: randomUUID(),
            source: 'customer',
            type: 'customer.created',
            subject: customerId,
            time: new Date().toISOString(),
            datacontenttype: 'application/json',
            data: customer,
            correlationid: randomUUID(),
            aggregateversion: 1,
          },
        ]);
        await drained();
        const planCode = unique('PROP')
          .toUpperCase()
          .replace(/[^A-Z0-9_-]/g, '-');
        const plan = await graphql<Data>(
          billing,
          CREATE_PLAN,
          {
            input: {
              code: planCode,
              name: 'Prop',
              billingPeriod: 'MONTH',
              unitPrice: { amount: decimal(t.unitPriceMinor), currency: 'USD' },
              minSeats: 1,
              maxSeats: 100,
              idempotencyKey: unique(),
            },
          },
          support,
        );
        expect(plan.data?.createPlan.userErrors).toEqual([]);
        const created = await graphql<Data>(
          billing,
          CREATE_SUBSCRIPTION,
          { input: { customerId, planCode, seats: t.seats, startDate: START, idempotencyKey: unique() } },
          support,
        );
        expect(created.data?.createSubscription.userErrors).toEqual([]);
        const subscriptionId = created.data.createSubscription.subscription.id as string;

        // The model: what the contract says the subscription is and each period must net to.
        const model = {
          seats: t.seats,
          pending: null as number | null,
          index: 0,
          last: null as IsoDate | null,
          cancelled: false,
        };
        const expectedNet = new Map<string, number>([[monthAfter(START, 1), t.seats * t.unitPriceMinor]]);
        const period = () => ({
          start: monthAfter(START, model.index),
          end: monthAfter(START, model.index + 1),
        });
        const prorated = (from: number, to: number, date: IsoDate) => {
          const { start, end } = period();
          return Number(
            divideHalfUp(
              BigInt(to - from) * BigInt(t.unitPriceMinor) * BigInt(daysBetween(date, end)),
              BigInt(daysBetween(start, end)),
            ),
          );
        };

        for (const step of t.actions) {
          if (model.cancelled) break;
          const { start, end } = period();
          if (step.type === 'renew') {
            const run = await graphql<Data>(
              billing,
              RENEW,
              { asOf: end, idempotencyKey: unique('run') },
              { 'x-c2c-caller': 'billing' },
            );
            expect(run.errors).toBeUndefined();
            expect(run.data?.renewSubscriptions.userErrors).toEqual([]);
            model.index += 1;
            model.seats = model.pending ?? model.seats;
            model.pending = null;
            model.last = null;
            expectedNet.set(period().end, model.seats * t.unitPriceMinor);
            continue;
          }
          if (step.type === 'pay') {
            await drained();
            const open = await db()
              .withSchema('finance')
              .selectFrom('receivable')
              .select(['invoice_id', 'amount_due_minor'])
              .where('subscription_id', '=', subscriptionId)
              .where('kind', '=', 'INVOICE')
              .where('amount_due_minor', '>', 0)
              .orderBy('issued_on')
              .executeTakeFirst();
            if (!open) continue;
            const amount = Math.max(1, Math.floor((Number(open.amount_due_minor) * step.percent) / 100));
            const paid = await graphql<Data>(
              finance,
              RECORD_PAYMENT,
              {
                input: {
                  invoiceId: open.invoice_id,
                  amount: { amount: decimal(amount), currency: 'USD' },
                  receivedOn: TODAY,
                  idempotencyKey: unique('pay'),
                },
              },
              { 'x-c2c-caller': 'finance' },
            );
            expect(paid.errors).toBeUndefined();
            expect(paid.data?.recordPayment.userErrors).toEqual([]);
            continue;
          }
          const periodDays = daysBetween(start, end);
          const date = step.type === 'amend' && step.atEnd ? end : addDays(start, step.day % periodDays);
          const backDated =
            date !== end && model.last !== null && toDayNumber(date) < toDayNumber(model.last);
          if (step.type === 'cancel') {
            const answer = await graphql<Data>(
              billing,
              CANCEL,
              {
                input: { subscriptionId, mode: 'IMMEDIATELY', effectiveDate: date, idempotencyKey: unique() },
              },
              support,
            );
            const errors = answer.data?.cancelSubscription.userErrors.map((e: Data) => e.code);
            if (backDated) {
              expect(errors).toEqual(['EFFECTIVE_DATE_BEFORE_LAST_CHANGE']);
              continue;
            }
            expect(errors).toEqual([]);
            expectedNet.set(end, expectedNet.get(end)! + prorated(model.seats, 0, date));
            model.cancelled = true;
            continue;
          }
          // An amendment: previewed, then made; both must agree with each other and with the model.
          const input = { subscriptionId, seats: step.seats, effectiveDate: date };
          const preview = (await graphql<Data>(billing, PREVIEW, { input }, support)).data?.previewAmendment;
          const answer = (
            await graphql<Data>(billing, AMEND, { input: { ...input, idempotencyKey: unique() } }, support)
          ).data?.amendSubscription;
          const codes = answer.userErrors.map((e: Data) => e.code);
          expect(preview.userErrors.map((e: Data) => e.code)).toEqual(codes);
          const scheduled = date === end;
          const unchanged = step.seats === (scheduled ? (model.pending ?? model.seats) : model.seats);
          if (backDated) expect(codes).toEqual(['EFFECTIVE_DATE_BEFORE_LAST_CHANGE']);
          else if (unchanged) expect(codes).toEqual(['SEATS_UNCHANGED']);
          else expect(codes).toEqual([]);
          if (codes.length > 0) continue;
          const document = answer.amendment.invoice ?? answer.amendment.creditNote;
          expect(preview.documentKind).toBe(document?.kind ?? 'NONE');
          if (document) {
            expect({
              subtotal: preview.subtotal.amount,
              tax: preview.tax.amount,
              total: preview.total.amount,
              lines: preview.lines,
            }).toEqual({
              subtotal: document.subtotal.amount,
              tax: document.tax.amount,
              total: document.total.amount,
              lines: document.lines,
            });
          } else {
            expect(preview.total.amount).toBe('0.00');
          }
          if (scheduled) {
            model.pending = step.seats === model.seats ? null : step.seats;
          } else {
            expectedNet.set(end, expectedNet.get(end)! + prorated(model.seats, step.seats, date));
            expect(document ? minor(document.subtotal.amount) : 0).toBe(
              prorated(model.seats, step.seats, date),
            );
            model.seats = step.seats;
            model.pending = null;
            model.last = date;
          }
        }
        await drained();

        // Per period (keyed by its end), billing's documents net to the seat-days' cost, and no
        // rate is credited more than was billed at it.
        const lines = await db()
          .withSchema('subscription')
          .selectFrom('invoice_line')
          .innerJoin('invoice', 'invoice.id', 'invoice_line.invoice_id')
          .select(['invoice_line.period_end', 'invoice_line.amount_minor', 'invoice_line.tax_rate_ppm'])
          .where('invoice.subscription_id', '=', subscriptionId)
          .execute();
        const net = new Map<string, number>();
        const byRate = new Map<string, number>();
        for (const line of lines) {
          const periodEnd = String(line.period_end);
          net.set(periodEnd, (net.get(periodEnd) ?? 0) + Number(line.amount_minor));
          const key = `${periodEnd} ${line.tax_rate_ppm}`;
          byRate.set(key, (byRate.get(key) ?? 0) + Number(line.amount_minor));
        }
        expect(Object.fromEntries(net)).toEqual(Object.fromEntries(expectedNet));
        for (const [key, amount] of byRate) expect(amount, `net at ${key}`).toBeGreaterThanOrEqual(0);

        // The ERP holds every document as billing issued it.
        const issued = await db()
          .withSchema('subscription')
          .selectFrom('invoice')
          .select(['id', 'total_minor', 'subtotal_minor'])
          .where('subscription_id', '=', subscriptionId)
          .orderBy('id')
          .execute();
        const received = await db()
          .withSchema('finance')
          .selectFrom('receivable')
          .selectAll()
          .where('subscription_id', '=', subscriptionId)
          .orderBy('invoice_id')
          .execute();
        expect(received.map((r) => [r.invoice_id, Number(r.total_minor)])).toEqual(
          issued.map((i) => [i.id, Number(i.total_minor)]),
        );

        // Receivable = documents − payments; amountDue ≥ 0 on invoices.
        const ids = received.map((r) => r.invoice_id);
        const payments = await db()
          .withSchema('finance')
          .selectFrom('payment')
          .select('amount_minor')
          .where('invoice_id', 'in', ids)
          .execute();
        const sum = (values: (number | string | bigint)[]) =>
          values.reduce<number>((s, v) => s + Number(v), 0);
        expect(sum(received.map((r) => r.amount_due_minor))).toBe(
          sum(received.map((r) => r.total_minor)) - sum(payments.map((p) => p.amount_minor)),
        );
        for (const r of received)
          if (r.kind === 'INVOICE') expect(Number(r.amount_due_minor)).toBeGreaterThanOrEqual(0);

        // Revenue schedules sum to the net subtotals, document by document.
        const schedule = await db()
          .withSchema('finance')
          .selectFrom('revenue_schedule')
          .select(['invoice_id', sql<number>`sum(amount_minor)::bigint`.as('total')])
          .where('invoice_id', 'in', ids)
          .groupBy('invoice_id')
          .execute();
        const scheduled = new Map(schedule.map((row) => [row.invoice_id, Number(row.total)]));
        for (const r of received) expect(scheduled.get(r.invoice_id) ?? 0).toBe(Number(r.subtotal_minor));

        // Overdue never exceeds the balance (today is after every due date).
        const receivable = (
          await graphql<Data>(finance, RECEIVABLE, { reps: [{ __typename: 'Customer', id: customerId }] })
        ).data?._entities[0].receivable;
        expect(minor(receivable.overdue.amount)).toBeLessThanOrEqual(
          Math.max(0, minor(receivable.balance.amount)),
        );

        // Every journal entry balances, per currency.
        const { rows: unbalanced } = await sql<{ entry_id: string }>`select entry_id from finance.journal_line
          group by entry_id, currency
          having sum(case when side = 'DEBIT' then amount_minor else -amount_minor end) <> 0`.execute(db());
        expect(unbalanced).toEqual([]);
      }),
      settings,
    );
  });
});
