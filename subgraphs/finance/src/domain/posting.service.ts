import { currencyExponent, DomainError, type Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { appendToOutbox, type Causality } from '@c2c/platform/events';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import { insertReceivables, markPosted } from '../data/receivable.repository.ts';
import { insertRevenueRows } from '../data/revenue.repository.ts';
import { SCHEMA } from '../data/tables.ts';
import { invoicePostedEvent, postingFailedEvent } from '../events/finance-events.ts';
import { allocateCredits } from './credit-allocation.ts';
import type { BillingDocument, ExternalPosting, LedgerPort } from '../ports/ledger.port.ts';
import { revenueSchedule } from './revenue-schedule.ts';

export type { BillingDocument, BillingDocumentLine } from '../ports/ledger.port.ts';

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

/**
 * ERP posting of billing documents: receivable, journal entry (in the ledger of record, through the
 * ERP port), revenue schedule, `invoice.posted`.
 */
export class PostingService {
  constructor(
    private readonly deps: Pick<SubgraphDeps, 'clock'>,
    private readonly ledger: LedgerPort,
  ) {}

  /** True when posting writes to an external ledger first (publish, outside any transaction). */
  get external(): boolean {
    return this.ledger.external;
  }

  /**
   * The external part of posting, outside any transaction: an ERP that keeps its own books receives
   * the document (idempotent by its id). Refuses what the ledger cannot post faithfully first.
   */
  async publish(doc: BillingDocument, log: Logger): Promise<ExternalPosting | null> {
    assertPostable(doc);
    return this.ledger.publishDocument(doc, log);
  }

  /**
   * Posts billing documents inside the consumer's transaction, in their order (one, or a batch's):
   * a document already received is left alone. For them all: one insert of the receivables, the
   * journal entries and revenue schedules (inserts held and joined, so one statement), one update
   * marking them posted, one read for credit allocation, and the `invoice.posted` events.
   */
  async post(
    trx: AnyTransaction,
    documents: readonly {
      doc: BillingDocument;
      causality: Causality;
      log: Logger;
      external: ExternalPosting | null;
    }[],
  ): Promise<void> {
    for (const { doc } of documents) assertPostable(doc);
    const fresh = await insertReceivables(
      trx,
      documents.map(({ doc }) => ({
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
      })),
    );
    // A document twice in the list is posted at its first.
    const posting = documents.filter(({ doc, log }) => {
      if (fresh.delete(doc.id)) return true;
      log.warn({ invoiceId: doc.id }, 'billing document already posted; event ignored');
      return false;
    });
    if (posting.length === 0) return;
    const posted: { invoiceId: string; journalEntryId: string; postedAt: Date }[] = [];
    for (const { doc, external } of posting) {
      // A JS Date (millisecond precision) so that the stored and the announced postedAt are equal.
      const postedAt = this.deps.clock.now();
      const journalEntryId = await this.ledger.recordDocument(trx, doc, external);
      await insertRevenueRows(trx, scheduleRows(doc));
      posted.push({ invoiceId: doc.id, journalEntryId, postedAt });
    }
    await markPosted(trx, posted);
    const subscribed = posting.flatMap(({ doc }) =>
      doc.subscriptionId === null
        ? []
        : [{ id: doc.id, subscriptionId: doc.subscriptionId, currency: doc.currency }],
    );
    const allocated = await allocateCredits(trx, subscribed);
    const byDocument = new Map(subscribed.map(({ id }, i) => [id, allocated[i]!]));
    for (const [i, { doc, causality, log }] of posting.entries()) {
      const allocations = byDocument.get(doc.id) ?? [];
      if (allocations.length > 0) log.info({ invoiceId: doc.id, allocations }, 'credit allocated');
      const { journalEntryId, postedAt } = posted[i]!;
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
      log.info({ invoiceId: doc.id, journalEntryId, ledger: this.ledger.system }, 'billing document posted');
    }
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
