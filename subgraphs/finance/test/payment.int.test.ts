import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, unique } from '@c2c/platform/testing';
import { aCreditNote, anInvoice } from './builders.ts';
import { startFinance, type FinanceHarness } from './harness.ts';

const RECORD = /* GraphQL */ `
  mutation ($input: RecordPaymentInput!) {
    recordPayment(input: $input) {
      payment {
        id
        amount {
          amount
          currency
        }
        receivedOn
        reference
        createdAt
        invoice {
          id
          amountDue {
            amount
            currency
          }
          payments {
            id
            amount {
              amount
            }
          }
        }
      }
      userErrors {
        code
        field
        message
      }
    }
  }
`;

describe('recordPayment', () => {
  let h: FinanceHarness;
  let invoice: ReturnType<typeof anInvoice>;
  beforeAll(async () => {
    h = await startFinance();
    // 31.00 + 5.89 tax = 36.89 USD
    invoice = anInvoice();
    await h.issue(invoice);
  });
  afterAll(() => h.close());

  const aPayment = (overrides: Record<string, unknown> = {}) => ({
    invoiceId: invoice.id,
    amount: { amount: '10.00', currency: 'USD' },
    receivedOn: '2026-03-01',
    reference: 'WIRE 4711',
    idempotencyKey: unique('pay'),
    ...overrides,
  });
  const record = async (input: Record<string, unknown>, caller = 'ops') =>
    ((await graphql(h.url, RECORD, { input }, { 'x-c2c-caller': caller })).data as any).recordPayment;
  const written = async () => ({
    payments: await h.count('payment'),
    entries: await h.count('journal_entry'),
    outbox: await h.count('outbox'),
    keys: await h.count('idempotency_key'),
  });

  it('applies a partial and then a full payment: Dr Cash / Cr AR, amount due, payment.applied', async () => {
    const target = anInvoice();
    await h.issue(target);
    const first = await record(aPayment({ invoiceId: target.id }));
    expect(first.userErrors).toEqual([]);
    expect(first.payment).toMatchObject({
      amount: { amount: '10.00', currency: 'USD' },
      receivedOn: '2026-03-01',
      reference: 'WIRE 4711',
      invoice: { id: target.id, amountDue: { amount: '26.89', currency: 'USD' } },
    });
    const second = await record(
      aPayment({ invoiceId: target.id, amount: { amount: '26.89', currency: 'USD' }, reference: null }),
    );
    expect(second.userErrors).toEqual([]);
    expect(second.payment.reference).toBeNull();
    expect(second.payment.invoice.amountDue).toEqual({ amount: '0.00', currency: 'USD' });
    expect(second.payment.invoice.payments.map((p: any) => p.amount.amount)).toEqual(['10.00', '26.89']);

    const receivable = await h
      .finance()
      .selectFrom('receivable')
      .select('amount_due_minor')
      .where('invoice_id', '=', target.id)
      .executeTakeFirstOrThrow();
    expect(receivable.amount_due_minor).toBe(0);

    const payment = await h
      .finance()
      .selectFrom('payment')
      .selectAll()
      .where('id', '=', second.payment.id)
      .executeTakeFirstOrThrow();
    const lines = await h
      .finance()
      .selectFrom('journal_line')
      .select(['account', 'side', 'amount_minor', 'currency'])
      .where('entry_id', '=', payment.journal_entry_id)
      .orderBy('line_no')
      .execute();
    expect(lines).toEqual([
      { account: 'CASH', side: 'DEBIT', amount_minor: 2689, currency: 'USD' },
      { account: 'ACCOUNTS_RECEIVABLE', side: 'CREDIT', amount_minor: 2689, currency: 'USD' },
    ]);

    const outbox = await h
      .finance()
      .selectFrom('outbox')
      .select(['type', 'subject', 'data'])
      .where('subject', '=', target.id)
      .where('type', '=', 'payment.applied')
      .orderBy('seq')
      .execute();
    const data = outbox.map((row) => (typeof row.data === 'string' ? JSON.parse(row.data) : row.data));
    expect(data).toEqual([
      {
        paymentId: first.payment.id,
        invoiceId: target.id,
        amountMinor: 1000,
        currency: 'USD',
        receivedOn: '2026-03-01',
        amountDueMinor: 2689,
      },
      {
        paymentId: second.payment.id,
        invoiceId: target.id,
        amountMinor: 2689,
        currency: 'USD',
        receivedOn: '2026-03-01',
        amountDueMinor: 0,
      },
    ]);

    const paid = await record(
      aPayment({ invoiceId: target.id, amount: { amount: '0.01', currency: 'USD' } }),
    );
    expect(paid).toEqual({
      payment: null,
      userErrors: [expect.objectContaining({ code: 'ALREADY_PAID', field: 'invoiceId' })],
    });
  });

  it('returns the stored payment for a repeated key and refuses the key with another input', async () => {
    const input = aPayment({ amount: { amount: '1.00', currency: 'USD' } });
    const first = await record(input);
    const before = await written();
    const again = await record(input);
    expect(again.payment.id).toBe(first.payment.id);
    expect(await written()).toEqual(before);
    expect(await h.count('payment', { id: first.payment.id })).toBe(1);
    const reused = await record({ ...input, amount: { amount: '2.00', currency: 'USD' } });
    expect(reused).toEqual({
      payment: null,
      userErrors: [expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'idempotencyKey' })],
    });
    expect(await written()).toEqual(before);
    // Keys are scoped to the caller: another caller's same key is a new request.
    const other = await record(input, 'another-caller');
    expect(other.payment.id).not.toBe(first.payment.id);
  });

  it('replays the amount due as first returned, not as later payments left it', async () => {
    const target = anInvoice();
    await h.issue(target);
    const input = aPayment({ invoiceId: target.id });
    const first = await record(input);
    expect(first.payment.invoice.amountDue).toEqual({ amount: '26.89', currency: 'USD' });
    expect((await record(aPayment({ invoiceId: target.id }))).userErrors).toEqual([]);
    const again = await record(input);
    expect(again.payment.invoice.amountDue).toEqual({ amount: '26.89', currency: 'USD' });
    expect(again.payment.id).toBe(first.payment.id);
  });

  const rejections: [string, () => Record<string, unknown>, string, string][] = [
    [
      'an overpayment',
      () => aPayment({ amount: { amount: '999.00', currency: 'USD' } }),
      'OVERPAYMENT',
      'amount',
    ],
    [
      'another currency',
      () => aPayment({ amount: { amount: '1.00', currency: 'EUR' } }),
      'CURRENCY_MISMATCH',
      'amount.currency',
    ],
    [
      'an unsupported currency',
      () => aPayment({ amount: { amount: '1.00', currency: 'XAU' } }),
      'UNSUPPORTED_CURRENCY',
      'amount.currency',
    ],
    [
      'too many decimals',
      () => aPayment({ amount: { amount: '1.001', currency: 'USD' } }),
      'INVALID_AMOUNT',
      'amount',
    ],
    [
      'a zero amount',
      () => aPayment({ amount: { amount: '0.00', currency: 'USD' } }),
      'INVALID_AMOUNT',
      'amount',
    ],
    [
      'a negative amount',
      () => aPayment({ amount: { amount: '-1.00', currency: 'USD' } }),
      'INVALID_AMOUNT',
      'amount',
    ],
    ['an unknown invoice', () => aPayment({ invoiceId: randomUUID() }), 'INVOICE_NOT_FOUND', 'invoiceId'],
    ['a malformed invoice id', () => aPayment({ invoiceId: 'INV-1' }), 'INVOICE_NOT_FOUND', 'invoiceId'],
    ['a future date', () => aPayment({ receivedOn: '2026-03-11' }), 'FUTURE_DATE', 'receivedOn'],
    ['a NUL in the reference', () => aPayment({ reference: 'WIRE\u00004711' }), 'INVALID_TEXT', 'reference'],
    [
      'a reference over 200 characters',
      () => aPayment({ reference: 'x'.repeat(201) }),
      'TOO_LONG',
      'reference',
    ],
    [
      'an empty idempotency key',
      () => aPayment({ idempotencyKey: '' }),
      'INVALID_IDEMPOTENCY_KEY',
      'idempotencyKey',
    ],
  ];
  it.each(rejections)(
    'rejects %s with a userError and writes nothing',
    async (_label, input, code, field) => {
      const before = await written();
      const payload = await record(input());
      expect(payload).toEqual({ payment: null, userErrors: [expect.objectContaining({ code, field })] });
      expect(await written()).toEqual(before);
    },
  );

  it('says that an unknown invoice may not have reached the ERP yet', async () => {
    const payload = await record(aPayment({ invoiceId: randomUUID() }));
    expect(payload.userErrors[0].message).toMatch(/not have reached the ERP yet/);
  });

  it('refuses to take a payment on a credit note', async () => {
    const note = aCreditNote();
    await h.issue(note);
    const before = await written();
    const payload = await record(aPayment({ invoiceId: note.id }));
    expect(payload).toEqual({
      payment: null,
      userErrors: [expect.objectContaining({ code: 'NOT_PAYABLE', field: 'invoiceId' })],
    });
    expect(await written()).toEqual(before);
  });

  it.each([
    ['a float amount', { amount: { amount: 10.5, currency: 'USD' } }],
    ['an impossible date', { receivedOn: '2026-02-30' }],
    ['a non-ISO currency', { amount: { amount: '1.00', currency: 'usd1' } }],
  ])('rejects %s at validation with a GraphQL error and writes nothing', async (_label, overrides) => {
    const before = await written();
    const result = await graphql(h.url, RECORD, { input: aPayment(overrides) });
    expect(result.data).toBeUndefined();
    expect(result.errors?.length).toBeGreaterThan(0);
    expect(await written()).toEqual(before);
  });

  it('accepts a payment received today', async () => {
    const payload = await record(
      aPayment({ receivedOn: '2026-03-10', amount: { amount: '0.01', currency: 'USD' } }),
    );
    expect(payload.userErrors).toEqual([]);
  });
});
