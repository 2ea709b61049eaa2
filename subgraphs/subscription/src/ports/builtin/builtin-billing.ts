import { v7 as uuidv7 } from 'uuid';
import { periodAt } from '@c2c/platform/core';
import type { AnyDb, AnyTransaction } from '@c2c/platform/db';
import { findBillToByIds, findBillToForUpdate, upsertBillTo } from '../../data/bill-to.repository.ts';
import {
  findInvoicePages,
  findInvoicesByIds,
  findLinesByInvoiceIds,
  findPeriodSeatLines,
  insertInvoice,
  markPaid,
  markPosted,
  markPostingFailed,
} from '../../data/invoice.repository.ts';
import { findAllPlans, findPlansByCodes, insertPlan } from '../../data/plan.repository.ts';
import {
  advanceSubscription,
  amendSubscriptionRow,
  countActiveSubscriptions,
  findCustomerCurrencies,
  findDueSubscriptionsForUpdate,
  findEndedWithUnbilledUsageForUpdate,
  findSubscriptionForUpdate,
  findSubscriptionsByCustomerIds,
  findSubscriptionsByIds,
  insertSubscription,
} from '../../data/subscription.repository.ts';
import { invoiceTotals } from '../../domain/invoice.rules.ts';
import {
  amendmentProration,
  draftAmendmentDocument,
  draftPeriodInvoice,
  lineColumns,
  type AmendmentProrationRequest,
  type ProrationDraft,
} from '../../domain/invoicing.ts';
import type {
  AmendedSubscription,
  AmendmentPreviewRequest,
  BillingPort,
  DocumentRequest,
  IssuedDocument,
  OpenSubscriptionRequest,
  RenewalRequest,
  SubscriptionAmendmentRequest,
} from '../billing.port.ts';

/**
 * The built-in billing platform: today's billing engine over the billing subgraph's own tables
 * (plans, the bill-to replica, subscriptions, invoices and credit notes with their lines). Every
 * write runs in the caller's transaction, so it commits with the use case's own bookkeeping.
 */
export class BuiltinBilling implements BillingPort {
  readonly system = 'builtin';
  readonly external = false;

  async connect(): Promise<void> {}

  async createPlan(trx: AnyTransaction, plan: Parameters<BillingPort['createPlan']>[1]) {
    return (await insertPlan(trx, plan)) ?? null;
  }

  plansByCodes(db: AnyDb, codes: readonly string[]) {
    return findPlansByCodes(db, codes);
  }

  allPlans(db: AnyDb) {
    return findAllPlans(db);
  }

  applyCustomer(trx: AnyTransaction, customer: Parameters<BillingPort['applyCustomer']>[1]) {
    return upsertBillTo(trx, customer);
  }

  customersByIds(db: AnyDb, ids: readonly string[]) {
    return findBillToByIds(db, ids);
  }

  lockCustomer(trx: AnyTransaction, id: string) {
    return findBillToForUpdate(trx, id);
  }

  subscriptionsByIds(db: AnyDb, ids: readonly string[]) {
    return findSubscriptionsByIds(db, ids);
  }

  subscriptionsByCustomerIds(db: AnyDb, customerIds: readonly string[]) {
    return findSubscriptionsByCustomerIds(db, customerIds);
  }

  customerCurrencies(db: AnyDb, customerId: string) {
    return findCustomerCurrencies(db, customerId);
  }

  countActiveSubscriptions(db: AnyDb, customerId: string, planCode: string) {
    return countActiveSubscriptions(db, customerId, planCode);
  }

  lockSubscription(trx: AnyTransaction, id: string) {
    return findSubscriptionForUpdate(trx, id);
  }

  lockDueSubscriptions(trx: AnyTransaction, asOf: string) {
    return findDueSubscriptionsForUpdate(trx, asOf);
  }

  lockEndedWithUnbilledUsage(trx: AnyTransaction) {
    return findEndedWithUnbilledUsageForUpdate(trx);
  }

  async openSubscription(trx: AnyTransaction, request: OpenSubscriptionRequest) {
    const { billTo, plan } = request;
    const period = periodAt(request.startDate, plan.billing_period, 0);
    const subscription = await insertSubscription(trx, {
      id: request.subscriptionId,
      customer_id: billTo.id,
      plan_code: plan.code,
      billing_period: plan.billing_period,
      unit_price_minor: plan.unit_price_minor,
      currency: plan.currency,
      status: 'ACTIVE',
      seats: request.seats,
      start_date: request.startDate,
      period_index: 0,
      current_period_start: period.start,
      current_period_end: period.end,
    });
    const drafted = draftPeriodInvoice({
      subscription,
      planName: plan.name,
      billTo,
      rates: request.rates,
      period,
      issuedOn: request.issuedOn,
    });
    const invoice = await this.issueDocument(trx, {
      kind: 'INVOICE',
      invoiceId: request.invoiceId,
      subscription,
      billTo,
      issuedOn: request.issuedOn,
      dueOn: request.dueOn,
      rateMissing: drafted.missing,
      lines: drafted.lines,
    });
    return { subscription, invoice };
  }

  amendSeats(trx: AnyTransaction, request: SubscriptionAmendmentRequest) {
    return this.amend(trx, request);
  }

  cancelSubscription(trx: AnyTransaction, request: SubscriptionAmendmentRequest) {
    return this.amend(trx, request);
  }

  async previewAmendment(db: AnyDb, request: AmendmentPreviewRequest): Promise<ProrationDraft | null> {
    return this.draft(db, {
      subscription: request.subscription,
      billTo: request.billTo,
      ...request.proration,
    });
  }

  async renewSubscription(trx: AnyTransaction, request: RenewalRequest) {
    const subscription = await advanceSubscription(trx, request.subscription, request.index, request.period);
    const drafted = draftPeriodInvoice({ ...request, subscription });
    const invoice = await this.issueDocument(trx, {
      kind: 'INVOICE',
      invoiceId: request.invoiceId,
      subscription,
      billTo: request.billTo,
      issuedOn: request.issuedOn,
      dueOn: request.dueOn,
      rateMissing: drafted.missing,
      lines: drafted.lines,
    });
    return { subscription, invoice };
  }

  async issueDocument(trx: AnyTransaction, request: DocumentRequest): Promise<IssuedDocument> {
    const { subscription, billTo, lines, invoiceId } = request;
    const totals = invoiceTotals(lines);
    return insertInvoice(
      trx,
      {
        id: invoiceId,
        kind: request.kind,
        customer_id: subscription.customer_id,
        subscription_id: subscription.id,
        business_unit: billTo.business_unit,
        currency: subscription.currency,
        issued_on: request.issuedOn,
        due_on: request.dueOn,
        subtotal_minor: totals.subtotalMinor,
        tax_minor: totals.taxMinor,
        total_minor: totals.totalMinor,
        tax_rate_missing: request.rateMissing,
        journal_entry_id: null,
        posted_at: null,
        posting_error: null,
      },
      lines.map((line, index) => ({
        id: uuidv7(),
        invoice_id: invoiceId,
        line_no: index + 1,
        ...lineColumns(line),
      })),
    );
  }

  invoicesByIds(db: AnyDb, ids: readonly string[]) {
    return findInvoicesByIds(db, ids);
  }

  linesByInvoiceIds(db: AnyDb, invoiceIds: readonly string[]) {
    return findLinesByInvoiceIds(db, invoiceIds);
  }

  invoicePages(db: AnyDb, subscriptionIds: readonly string[], limit: number, afterSeq: number | null) {
    return findInvoicePages(db, subscriptionIds, limit, afterSeq);
  }

  recordPosted(trx: AnyTransaction, ack: { invoiceId: string; journalEntryId: string; postedAt: Date }) {
    return markPosted(trx, ack.invoiceId, ack.journalEntryId, ack.postedAt);
  }

  recordPostingFailed(trx: AnyTransaction, invoiceId: string, error: string) {
    return markPostingFailed(trx, invoiceId, error);
  }

  markPaid(trx: AnyTransaction, invoiceId: string) {
    return markPaid(trx, invoiceId);
  }

  /** Nothing changes behind our back in our own tables: the outbox is the feed. */
  watch(): void {}

  async close(): Promise<void> {}

  /** Applies the change (version-guarded), then issues the proration document if one is due. */
  private async amend(
    trx: AnyTransaction,
    request: SubscriptionAmendmentRequest,
  ): Promise<AmendedSubscription> {
    const before = request.subscription;
    const subscription = await amendSubscriptionRow(trx, before, request.change);
    if (!request.proration) return { subscription, document: null, prorationMinor: 0 };
    const { documentId, ...proration } = request.proration;
    const draft = await this.draft(trx, { subscription: before, billTo: request.billTo, ...proration });
    if (!draft) return { subscription, document: null, prorationMinor: 0 };
    const document = await this.issueDocument(trx, {
      kind: draft.kind,
      invoiceId: documentId,
      subscription,
      billTo: request.billTo,
      issuedOn: draft.issuedOn,
      dueOn: draft.dueOn,
      rateMissing: draft.rateMissing,
      lines: draft.lines,
    });
    return { subscription, document, prorationMinor: draft.totals.subtotalMinor };
  }

  /** The proration document, computed from the subscription before the change and the period's documents. */
  private async draft(db: AnyDb, request: AmendmentProrationRequest): Promise<ProrationDraft | null> {
    const prorated = amendmentProration(request);
    if (prorated.proration.amountMinor === 0) return null;
    const seatLines =
      prorated.proration.seatDelta < 0
        ? await findPeriodSeatLines(db, request.subscription.id, prorated.period)
        : [];
    return draftAmendmentDocument(request, prorated, seatLines);
  }
}
