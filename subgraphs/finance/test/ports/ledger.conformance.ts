import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMinor } from '@c2c/platform/core';
import { graphql, unique, waitFor } from '@c2c/platform/testing';
import { aCreditNote, aLine, anEvent, anInvoice } from '../builders.ts';
import { startFinance, TODAY, type FinanceHarness } from '../harness.ts';

/** What the system of record itself holds for one of our documents, read from it directly. */
export interface DocumentInLedger {
  total: string;
  tax: string;
  untaxed: string;
  lineAmounts: string[];
  /** The amount still to pay, as the ledger of record computes it. */
  amountToPay: string;
}

/** One adapter under test: its environment and a way to look into its system of record. */
export interface LedgerUnderTest {
  env: Record<string, string>;
  /** Documents the ledger holds under our id (a retry must never make a second). */
  documents(h: FinanceHarness, ourId: string): Promise<DocumentInLedger[]>;
  /** Payments the ledger holds under our payment id, with their amounts. */
  payments(h: FinanceHarness, paymentId: string): Promise<string[]>;
}

const RECORD = /* GraphQL */ `
  mutation ($input: RecordPaymentInput!) {
    recordPayment(input: $input) {
      payment {
        id
        amount {
          amount
        }
        invoice {
          amountDue {
            amount
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

/**
 * What every ERP adapter must do (docs/adapters.md): post each billing document once, with the
 * exact lines, tax and total, however often the event comes; apply each payment once by our id;
 * refuse what cannot be posted with our codes, writing nothing.
 */
export function ledgerConformance(name: string, make: () => LedgerUnderTest | null): void {
  const ledger = make();
  describe.skipIf(ledger === null)(`LedgerPort conformance: ${name}`, () => {
    let h: FinanceHarness;
    beforeAll(async () => {
      h = await startFinance(ledger!.env);
    }, 60_000);
    afterAll(() => h?.close());

    const issuedToday = { issuedOn: TODAY.slice(0, 10), dueOn: '2026-04-09' };

    it('posts an invoice once, with its exact lines, tax and total, when its event comes twice', async () => {
      // Two rates, amounts whose tax rounds differently per line than per document.
      const invoice = anInvoice({ ...issuedToday }, [
        aLine({ amountMinor: 1005, taxMinor: 191, taxRatePpm: 190_000, description: 'Team plan, 1 seat' }),
        aLine({ amountMinor: 2015, taxMinor: 383, taxRatePpm: 190_000, description: 'Team plan, 2 seats' }),
        aLine({ amountMinor: 999, taxMinor: 70, taxRatePpm: 70_000, description: 'Training' }),
      ]);
      const event = await h.issue(invoice);
      await h.publish({ ...event, id: randomUUID() }); // billing's relay sent it again under a new id
      const held = await ledger!.documents(h, invoice.id);
      expect(held).toHaveLength(1);
      expect(held[0]).toMatchObject({
        untaxed: formatMinor(invoice.subtotalMinor, 'USD'),
        tax: formatMinor(invoice.taxMinor, 'USD'),
        total: formatMinor(invoice.totalMinor, 'USD'),
        amountToPay: formatMinor(invoice.totalMinor, 'USD'),
      });
      expect([...held[0]!.lineAmounts].sort()).toEqual(['10.05', '20.15', '9.99']);
      expect(await h.count('outbox', { subject: invoice.id, type: 'invoice.posted' })).toBe(1);
    });

    it('posts a credit note with negative amounts', async () => {
      const note = aCreditNote({ ...issuedToday }, 802, 152);
      await h.issue(note);
      const held = await ledger!.documents(h, note.id);
      expect(held).toHaveLength(1);
      expect(held[0]).toMatchObject({ total: '-9.54', tax: '-1.52', untaxed: '-8.02' });
    });

    it('applies a payment once, by our id, however often the request is repeated', async () => {
      const invoice = anInvoice({ ...issuedToday });
      await h.issue(invoice);
      const input = {
        invoiceId: invoice.id,
        amount: { amount: formatMinor(invoice.totalMinor, 'USD'), currency: 'USD' },
        receivedOn: TODAY.slice(0, 10),
        reference: 'WIRE 1',
        idempotencyKey: unique('pay'),
      };
      const first = await graphql(h.url, RECORD, { input });
      const again = await graphql(h.url, RECORD, { input });
      const payment = (first.data as any).recordPayment.payment;
      expect((first.data as any).recordPayment.userErrors).toEqual([]);
      expect((again.data as any).recordPayment.payment.id).toBe(payment.id);
      expect(await ledger!.payments(h, payment.id)).toEqual([formatMinor(invoice.totalMinor, 'USD')]);
      const [held] = await ledger!.documents(h, invoice.id);
      expect(held?.amountToPay).toBe('0.00');
    });

    it('refuses a document whose lines do not add up, with our code, and posts nothing', async () => {
      const broken = anInvoice({ ...issuedToday, subtotalMinor: 1 });
      await h.issue(broken);
      await waitFor(
        async () => (await h.count('dead_letter', {})) > 0,
        10_000,
        'the broken document to be dead-lettered',
      );
      const dead = await h
        .finance()
        .selectFrom('dead_letter')
        .select(['error'])
        .where('subject', '=', broken.id)
        .executeTakeFirstOrThrow();
      expect(dead.error).toMatch(/lines of .* sum to 3100, not its subtotal 1/);
      expect(await ledger!.documents(h, broken.id)).toEqual([]);
      expect(await h.count('outbox', { subject: broken.id, type: 'posting.failed' })).toBe(1);
    });

    it('is not fooled by an unknown event id for a known document: no second posting', async () => {
      const invoice = anInvoice({ ...issuedToday });
      await h.publish(anEvent('invoice.issued', invoice), anEvent('invoice.issued', invoice));
      expect(await ledger!.documents(h, invoice.id)).toHaveLength(1);
    });
  });
}
