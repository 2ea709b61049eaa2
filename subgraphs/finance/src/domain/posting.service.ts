import { v7 as uuidv7 } from 'uuid';
import { currencyExponent, DomainError, type IsoDate, type Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { appendToOutbox, type Causality } from '@c2c/platform/events';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import { insertJournalEntry } from '../data/ledger.repository.ts';
import { insertReceivable, markPosted } from '../data/receivable.repository.ts';
import { insertRevenueRows } from '../data/revenue.repository.ts';
import { SCHEMA, type DocumentKind } from '../data/tables.ts';
import { invoicePostedEvent, postingFailedEvent } from '../events/finance-events.ts';
import { allocateCredits } from './credit-allocation.ts';
import { billingDocumentLines } from './journal.ts';
import { revenueSchedule } from './revenue-schedule.ts';

export interface BillingDocumentLine {
  id: string;
  amountMinor: number;
  periodStart: IsoDate;
  periodEnd: IsoDate;
}

/** An invoice or credit note as billing issued it; a credit note's amounts are negative. */
export interface BillingDocument {
  id: string;
  number: string;
  kind: DocumentKind;
  customerId: string;
  subscriptionId: string | null;
  businessUnit: string;
  currency: string;
  issuedOn: IsoDate;
  dueOn: IsoDate;
  subtotalMinor: number;
  taxMinor: number;
  totalMinor: number;
  lines: BillingDocumentLine[];
  /** The CRM order whose first invoice this is; echoed on `invoice.posted`. */
  orderId?: string | null;
}

/**
 * Refuses documents the ledger cannot post faithfully. The consumer lets the error propagate, so
 * the platform retries and finally dead-letters the event where operators see why.
 */
function assertPostable(doc: BillingDocument): void {
  currencyExponent(doc.currency, null);
  const wrongSign = doc.kind === 'INVOICE' ? doc.totalMinor < 0 : doc.totalMinor > 0;
  if (wrongSign)
    throw new DomainError('INVALID_DOCUMENT', `${doc.kind} ${doc.number} has a total of the wrong sign`);
  const linesSum = doc.lines.reduce((sum, line) => sum + line.amountMinor, 0);
  if (linesSum !== doc.subtotalMinor) {
    throw new DomainError(
      'INVALID_DOCUMENT',
      `lines of ${doc.number} sum to ${linesSum}, not its subtotal ${doc.subtotalMinor}`,
    );
  }
}

function scheduleRows(doc: BillingDocument) {
  return doc.lines.flatMap((line) =>
    revenueSchedule(line.amountMinor, line.periodStart, line.periodEnd).map((share) => ({
      invoice_id: doc.id,
      line_id: line.id,
      subscription_id: doc.subscriptionId,
      month: share.month,
      amount_minor: share.amountMinor,
      currency: doc.currency,
    })),
  );
}

/** ERP posting of billing documents: receivable, journal entry, revenue schedule, `invoice.posted`. */
export class PostingService {
  constructor(private readonly deps: Pick<SubgraphDeps, 'clock'>) {}

  /** Runs inside the consumer's transaction; a document already received is left alone. */
  async post(trx: AnyTransaction, doc: BillingDocument, causality: Causality, log: Logger): Promise<void> {
    assertPostable(doc);
    const journalLines = billingDocumentLines(doc);
    const schedule = scheduleRows(doc);
    const fresh = await insertReceivable(trx, {
      invoice_id: doc.id,
      number: doc.number,
      kind: doc.kind,
      customer_id: doc.customerId,
      subscription_id: doc.subscriptionId,
      business_unit: doc.businessUnit,
      currency: doc.currency,
      issued_on: doc.issuedOn,
      due_on: doc.dueOn,
      subtotal_minor: doc.subtotalMinor,
      tax_minor: doc.taxMinor,
      total_minor: doc.totalMinor,
      amount_due_minor: doc.totalMinor,
      journal_entry_id: null,
      posted_at: null,
      posting_error: null,
    });
    if (!fresh) {
      log.warn({ invoiceId: doc.id }, 'billing document already posted; event ignored');
      return;
    }
    const journalEntryId = uuidv7();
    // A JS Date (millisecond precision) so that the stored and the announced postedAt are equal.
    const postedAt = this.deps.clock.now();
    await insertJournalEntry(trx, {
      id: journalEntryId,
      entryDate: doc.issuedOn,
      memo: `${doc.kind === 'INVOICE' ? 'Invoice' : 'Credit note'} ${doc.number} issued`,
      sourceType: doc.kind,
      sourceId: doc.id,
      lines: journalLines.map((l) => ({
        account: l.account,
        side: l.side,
        amount_minor: l.amountMinor,
        currency: l.currency,
      })),
    });
    await insertRevenueRows(trx, schedule);
    await markPosted(trx, doc.id, journalEntryId, postedAt);
    if (doc.subscriptionId !== null) {
      const allocations = await allocateCredits(trx, doc.subscriptionId, doc.currency);
      if (allocations.length > 0) log.info({ invoiceId: doc.id, allocations }, 'credit allocated');
    }
    await appendToOutbox(
      trx,
      SCHEMA,
      SCHEMA,
      [
        invoicePostedEvent({
          invoiceId: doc.id,
          journalEntryId,
          postedAt: postedAt.toISOString(),
          ...(doc.orderId ? { orderId: doc.orderId } : {}),
        }),
      ],
      causality,
    );
    log.info({ invoiceId: doc.id, journalEntryId }, 'billing document posted');
  }

  /**
   * Announces `posting.failed` in the dead-letter transaction: the ERP gave up on a billing
   * document, so billing can show it (and the amendment that issued it) as failed.
   */
  async announceFailed(
    trx: AnyTransaction,
    failure: {
      invoiceId: string;
      amendmentId: string | null;
      orderId?: string | null;
      error: string;
      attempts: number;
    },
    causality: Causality,
  ): Promise<void> {
    const { invoiceId, amendmentId, orderId } = failure;
    await appendToOutbox(
      trx,
      SCHEMA,
      SCHEMA,
      [
        postingFailedEvent({
          invoiceId,
          ...(amendmentId ? { amendmentId } : {}),
          ...(orderId ? { orderId } : {}),
          error: failure.error,
          attempts: failure.attempts,
        }),
      ],
      causality,
    );
  }
}
