import { v7 as uuidv7 } from 'uuid';
import type { IsoDate, Period } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import type { BillToRow } from '../data/bill-to.repository.ts';
import {
  insertInvoice,
  nextDocumentNumber,
  type InvoiceLineRow,
  type InvoiceRow,
} from '../data/invoice.repository.ts';
import type { SubscriptionRow } from '../data/subscription.repository.ts';
import type { TaxRateRow } from '../data/tax-rate.repository.ts';
import {
  invoiceTotals,
  pickTaxRate,
  seatLine,
  seatLineDescription,
  type InvoiceTotals,
  type LineDraft,
} from './invoice.rules.ts';
import type { CreditedSeats } from './period-timeline.ts';
import { prorationLines, type Proration } from './proration.ts';

/** A drafted line as the columns of a stored invoice line (what InvoiceLine's resolvers read). */
export function lineColumns(line: LineDraft) {
  return {
    description: line.description,
    quantity: line.quantity,
    unit_price_minor: line.unitPriceMinor,
    amount_minor: line.amountMinor,
    tax_rate_ppm: line.taxRatePpm,
    tax_minor: line.taxMinor,
    period_start: line.periodStart,
    period_end: line.periodEnd,
    usage_metric: line.usage?.metric ?? null,
    usage_quantity: line.usage?.quantity ?? null,
    usage_unit_price: line.usage?.unitPrice ?? null,
    usage_adjustment: line.usage ? line.usage.adjustment : null,
  };
}

export interface IssuedDocument {
  invoice: InvoiceRow;
  lines: InvoiceLineRow[];
}

export interface PeriodInvoiceRequest {
  subscription: SubscriptionRow;
  planName: string;
  billTo: BillToRow;
  /** Dated rates of (at least) the bill-to country. */
  rates: readonly TaxRateRow[];
  period: Period;
  issuedOn: IsoDate;
  dueOn: IsoDate;
  /** The invoice's id when the caller needs it first (usage claimed for this invoice). */
  invoiceId?: string;
  /** Lines after the seat line (usage in arrears), given the tax rate of the invoice's issue date. */
  extraLines?: (ratePpm: number) => LineDraft[];
}

/** Issues the in-advance invoice of one full period, inside the caller's transaction. */
export async function issuePeriodInvoice(
  trx: AnyTransaction,
  request: PeriodInvoiceRequest,
): Promise<IssuedDocument> {
  const { subscription, billTo, period } = request;
  const rate = pickTaxRate(request.rates, billTo.country, billTo.region, request.issuedOn);
  const line = seatLine({
    description: seatLineDescription(request.planName, subscription.seats, period),
    seats: subscription.seats,
    unitPriceMinor: subscription.unit_price_minor,
    ratePpm: rate.ratePpm,
    period,
  });
  const lines = [line, ...(request.extraLines?.(rate.ratePpm) ?? [])];
  return insertDocument(trx, 'INVOICE', { ...request, missing: rate.missing, lines });
}

export interface ProrationDocumentRequest {
  subscription: SubscriptionRow;
  billTo: BillToRow;
  rates: readonly TaxRateRow[];
  proration: Proration;
  description: string;
  effectiveDate: IsoDate;
  period: Period;
  issuedOn: IsoDate;
  dueOn: IsoDate;
  /**
   * For a credit: the seats it removes grouped by the rate they were billed at (newest first).
   * Absent for an increase, taxed like any invoice at the rate valid on the issue date.
   */
  credited?: readonly CreditedSeats[];
}

/** A proration document as it would be issued: what a preview shows and an amendment inserts. */
export interface ProrationDraft {
  kind: 'INVOICE' | 'CREDIT_NOTE';
  lines: LineDraft[];
  totals: InvoiceTotals;
  rateMissing: boolean;
  issuedOn: IsoDate;
  dueOn: IsoDate;
}

/**
 * The proration document of an amendment, computed without writing: an invoice for more seats
 * (tax at the rate valid on the issue date for the bill-to address), a credit note for fewer
 * (negative amounts; tax reversed at the rate each credited seat was charged at), HALF_UP once
 * per line.
 */
export function draftProrationDocument(request: ProrationDocumentRequest): ProrationDraft {
  const { billTo } = request;
  const kind = request.proration.amountMinor < 0 ? 'CREDIT_NOTE' : 'INVOICE';
  const today = pickTaxRate(request.rates, billTo.country, billTo.region, request.issuedOn);
  const parts =
    kind === 'CREDIT_NOTE' && request.credited && request.credited.length > 0
      ? request.credited
      : [{ seats: Math.abs(request.proration.seatDelta), rate: today }];
  const lines = prorationLines({
    description: request.description,
    proration: request.proration,
    unitPriceMinor: request.subscription.unit_price_minor,
    parts: parts.map((part) => ({ seats: part.seats, ratePpm: part.rate.ratePpm })),
    effectiveDate: request.effectiveDate,
    period: request.period,
  });
  return {
    kind,
    lines,
    totals: invoiceTotals(lines),
    rateMissing: parts.some((part) => part.rate.missing),
    issuedOn: request.issuedOn,
    dueOn: request.dueOn,
  };
}

/** Issues a drafted proration document inside the caller's transaction. */
export async function issueProrationDocument(
  trx: AnyTransaction,
  subscription: SubscriptionRow,
  billTo: BillToRow,
  draft: ProrationDraft,
): Promise<IssuedDocument> {
  return insertDocument(trx, draft.kind, {
    subscription,
    billTo,
    issuedOn: draft.issuedOn,
    dueOn: draft.dueOn,
    missing: draft.rateMissing,
    lines: draft.lines,
  });
}

/** Inserts a document of the given lines (an invoice carrying only usage, for instance). */
export async function insertDocument(
  trx: AnyTransaction,
  kind: 'INVOICE' | 'CREDIT_NOTE',
  request: {
    invoiceId?: string;
    subscription: SubscriptionRow;
    billTo: BillToRow;
    issuedOn: IsoDate;
    dueOn: IsoDate;
    missing: boolean;
    lines: readonly LineDraft[];
  },
): Promise<IssuedDocument> {
  const { subscription, billTo, lines } = request;
  const totals = invoiceTotals(lines);
  const invoiceId = request.invoiceId ?? uuidv7();
  return insertInvoice(
    trx,
    {
      id: invoiceId,
      number: await nextDocumentNumber(trx, kind),
      kind,
      customer_id: subscription.customer_id,
      subscription_id: subscription.id,
      business_unit: billTo.business_unit,
      currency: subscription.currency,
      issued_on: request.issuedOn,
      due_on: request.dueOn,
      subtotal_minor: totals.subtotalMinor,
      tax_minor: totals.taxMinor,
      total_minor: totals.totalMinor,
      tax_rate_missing: request.missing,
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
