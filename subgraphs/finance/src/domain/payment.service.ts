import { v5 as uuidv5 } from 'uuid';
import {
  cleanName,
  currencyExponent,
  DomainError,
  formatMinor,
  parseDecimal,
  parseIsoDate,
  todayUtc,
} from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { appendToOutbox, type Causality } from '@c2c/platform/events';
import { requestHash, runIdempotent } from '@c2c/platform/graphql';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import { insertPayment, type PaymentRow } from '../data/payment.repository.ts';
import {
  decreaseAmountDue,
  findReceivableForUpdate,
  type ReceivableRow,
} from '../data/receivable.repository.ts';
import { SCHEMA } from '../data/tables.ts';
import { paymentAppliedEvent } from '../events/finance-events.ts';
import { isUuid, normalizeId } from './ids.ts';
import type { ExternalPayment, LedgerChanges, LedgerPayment, LedgerPort } from '../ports/ledger.port.ts';

export interface RecordPaymentCommand {
  invoiceId: string;
  amount: { amount: string; currency: string };
  receivedOn: string;
  reference?: string | null;
  idempotencyKey: string;
}

export interface Caller {
  caller: string;
  correlationId: string;
}

interface ValidPayment {
  invoiceId: string;
  amountMinor: number;
  currency: string;
  receivedOn: string;
  reference: string | null;
}

function invoiceNotFound(invoiceId: string): DomainError {
  return new DomainError(
    'INVOICE_NOT_FOUND',
    `the ERP has no invoice ${JSON.stringify(invoiceId)}; a just-issued invoice may not have reached the ERP yet, retry shortly`,
    'invoiceId',
  );
}

/** Rules that hold between the payment and the invoice it pays. */
function assertPayable(receivable: ReceivableRow, payment: ValidPayment): void {
  if (receivable.kind !== 'INVOICE') {
    throw new DomainError(
      'NOT_PAYABLE',
      `${receivable.number} is a credit note; only invoices take payments`,
      'invoiceId',
    );
  }
  if (receivable.currency !== payment.currency) {
    throw new DomainError(
      'CURRENCY_MISMATCH',
      `invoice ${receivable.number} is in ${receivable.currency}, the payment in ${payment.currency}`,
      'amount.currency',
    );
  }
  if (receivable.amount_due_minor <= 0) {
    throw new DomainError(
      'ALREADY_PAID',
      `invoice ${receivable.number} has nothing left to pay`,
      'invoiceId',
    );
  }
  if (payment.amountMinor > receivable.amount_due_minor) {
    throw new DomainError(
      'OVERPAYMENT',
      `the amount exceeds the ${formatMinor(receivable.amount_due_minor, receivable.currency)} ${receivable.currency} due on invoice ${receivable.number}`,
      'amount',
    );
  }
}

/**
 * What recordPayment answered: the payment and its invoice's receivable right after it, kept as
 * the stored response so that a replay shows these numbers, not later ones (
 * idempotency). Results stored before the snapshot existed carry only the id.
 */
export interface RecordedPayment {
  paymentId: string;
  payment?: PaymentRow;
  receivable?: ReceivableRow;
}

/**
 * A payment applied here, in the transaction that recorded it in the ledger of record: the payment
 * row, the invoice's amount due, and `payment.applied` for billing.
 */
async function applyHere(
  trx: AnyTransaction,
  payment: LedgerPayment,
  journalEntryId: string,
  causality: Causality,
): Promise<{ stored: PaymentRow; amountDueMinor: number }> {
  const stored = await insertPayment(trx, {
    id: payment.id,
    invoice_id: payment.invoiceId,
    amount_minor: payment.amountMinor,
    currency: payment.currency,
    received_on: payment.receivedOn,
    reference: payment.reference,
    journal_entry_id: journalEntryId,
  });
  const amountDueMinor = await decreaseAmountDue(trx, payment.invoiceId, payment.amountMinor);
  await appendToOutbox(
    trx,
    SCHEMA,
    SCHEMA,
    [
      paymentAppliedEvent({
        paymentId: payment.id,
        invoiceId: payment.invoiceId,
        amountMinor: payment.amountMinor,
        currency: payment.currency,
        receivedOn: payment.receivedOn,
        amountDueMinor,
      }),
    ],
    causality,
  );
  return { stored, amountDueMinor };
}

const PAYMENT_IDS = 'f3b0e7c2-5a1d-4c8e-9b6a-2d4e8f1a7c35';

/** A payment id derived from the request (caller, key, input): a retry gets the same id. */
function paymentIdFor(caller: string, key: string, payment: ValidPayment): string {
  return uuidv5(`${caller}\n${key}\n${requestHash('recordPayment', payment)}`, PAYMENT_IDS);
}

/** Applying received money to invoices. */
export class PaymentService implements LedgerChanges {
  constructor(
    private readonly deps: SubgraphDeps,
    private readonly ledger: LedgerPort,
  ) {}

  private validate(command: RecordPaymentCommand): ValidPayment {
    if (!isUuid(command.invoiceId)) throw invoiceNotFound(command.invoiceId);
    const currency = command.amount.currency;
    currencyExponent(currency, 'amount.currency');
    const amountMinor = parseDecimal(command.amount.amount, currency, 'amount');
    if (amountMinor <= 0)
      throw new DomainError('INVALID_AMOUNT', 'a payment must be greater than zero', 'amount');
    const receivedOn = parseIsoDate(command.receivedOn, 'receivedOn');
    const today = todayUtc(this.deps.clock.now());
    if (receivedOn > today) {
      throw new DomainError(
        'FUTURE_DATE',
        `receivedOn ${receivedOn} is after today (${today})`,
        'receivedOn',
      );
    }
    return {
      invoiceId: normalizeId(command.invoiceId),
      amountMinor,
      currency,
      receivedOn,
      reference: cleanName(command.reference, 'reference', 200, true),
    };
  }

  /** One transaction: payment, amount due, Dr Cash / Cr AR, and `payment.applied` in the outbox. */
  async recordPayment(command: RecordPaymentCommand, who: Caller): Promise<RecordedPayment> {
    const payment = this.validate(command);
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      { scope: who.caller, key: command.idempotencyKey, operation: 'recordPayment', input: payment },
      async (trx) => {
        const receivable = await findReceivableForUpdate(trx, payment.invoiceId);
        if (!receivable) throw invoiceNotFound(payment.invoiceId);
        assertPayable(receivable, payment);
        // The same id on every retry of this request: the ledger finds its earlier write by it.
        const paymentId = paymentIdFor(who.caller, command.idempotencyKey, payment);
        const ledgerPayment: LedgerPayment = {
          id: paymentId,
          invoiceId: payment.invoiceId,
          invoiceNumber: receivable.number,
          amountMinor: payment.amountMinor,
          currency: payment.currency,
          receivedOn: payment.receivedOn,
          reference: payment.reference,
        };
        const journalEntryId = await this.ledger.applyPayment(trx, ledgerPayment, this.deps.log);
        const { stored, amountDueMinor } = await applyHere(
          trx,
          { ...ledgerPayment, id: paymentId },
          journalEntryId,
          who,
        );
        return {
          paymentId,
          payment: stored,
          receivable: { ...receivable, amount_due_minor: amountDueMinor },
        };
      },
    );
    this.deps.afterCommit();
    return value;
  }

  /**
   * A payment entered in the ERP itself, seen by change capture: applied here like one recorded
   * through the supergraph (payment row, amount due, journal mirror, `payment.applied`), once.
   */
  async paymentSeen(payment: ExternalPayment): Promise<'recorded' | 'known' | 'unknown-invoice'> {
    const outcome = await this.deps.db.transaction().execute(async (trx) => {
      const receivable = await findReceivableForUpdate(trx, payment.invoiceId);
      if (!receivable) return 'unknown-invoice' as const;
      const journalEntryId = await this.ledger.recordExternalPayment(trx, payment);
      if (journalEntryId === null) return 'known' as const;
      await applyHere(trx, payment, journalEntryId, {
        correlationId: `erp-${this.ledger.system}-${payment.erpId}`,
      });
      return 'recorded' as const;
    });
    if (outcome === 'recorded') this.deps.afterCommit();
    return outcome;
  }
}
