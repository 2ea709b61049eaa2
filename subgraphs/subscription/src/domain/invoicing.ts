import type { IsoDate, Period } from '@c2c/platform/core';
import type { BillToRow } from '../data/bill-to.repository.ts';
import type { PeriodSeatLine } from '../data/invoice.repository.ts';
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
import { creditedSeats, type CreditedSeats } from './period-timeline.ts';
import { prorate, prorationLineDescription, prorationLines, type Proration } from './proration.ts';

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

/** The lines of one full period's in-advance invoice: the seat line, then any extra lines. */
export interface PeriodInvoiceRequest {
  subscription: SubscriptionRow;
  planName: string;
  billTo: BillToRow;
  /** Dated rates of (at least) the bill-to country. */
  rates: readonly TaxRateRow[];
  period: Period;
  issuedOn: IsoDate;
  /** Lines after the seat line (usage in arrears), given the tax rate of the invoice's issue date. */
  extraLines?: (ratePpm: number) => LineDraft[];
}

/**
 * The in-advance invoice of one full period, drafted: the seat line at the rate valid on the issue
 * date for the bill-to address, then the extra lines; `missing` when no rate matched.
 */
export function draftPeriodInvoice(request: PeriodInvoiceRequest): { lines: LineDraft[]; missing: boolean } {
  const { subscription, billTo, period } = request;
  const rate = pickTaxRate(request.rates, billTo.country, billTo.region, request.issuedOn);
  const line = seatLine({
    description: seatLineDescription(request.planName, subscription.seats, period),
    seats: subscription.seats,
    unitPriceMinor: subscription.unit_price_minor,
    ratePpm: rate.ratePpm,
    period,
  });
  return { lines: [line, ...(request.extraLines?.(rate.ratePpm) ?? [])], missing: rate.missing };
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

/** An amendment's proration over [effectiveDate, end) of the subscription's current period. */
export interface AmendmentProrationRequest {
  /** The subscription before the change. */
  subscription: SubscriptionRow;
  billTo: BillToRow;
  planName: string;
  seatsBefore: number;
  seatsAfter: number;
  effectiveDate: IsoDate;
  issuedOn: IsoDate;
  dueOn: IsoDate;
  rates: readonly TaxRateRow[];
}

/** The proration of an amendment (DOMAIN: seat-days over the period, HALF_UP once). */
export function amendmentProration(request: AmendmentProrationRequest): {
  proration: Proration;
  period: Period;
} {
  const { subscription } = request;
  const period = { start: subscription.current_period_start, end: subscription.current_period_end };
  const proration = prorate({
    seatsBefore: request.seatsBefore,
    seatsAfter: request.seatsAfter,
    unitPriceMinor: subscription.unit_price_minor,
    period,
    effectiveDate: request.effectiveDate,
  });
  return { proration, period };
}

/**
 * The proration document an amendment issues (and its preview returns), null when it rounds to
 * zero. A decrease needs the period's seat lines (`periodSeatLines`, in issue order) to credit
 * each seat at the rate it was billed at.
 */
export function draftAmendmentDocument(
  request: AmendmentProrationRequest,
  prorated: { proration: Proration; period: Period },
  periodSeatLines: readonly PeriodSeatLine[] = [],
): ProrationDraft | null {
  const { proration, period } = prorated;
  if (proration.amountMinor === 0) return null;
  const { billTo, rates } = request;
  const credited =
    proration.seatDelta < 0
      ? creditedSeats(
          periodSeatLines,
          -proration.seatDelta,
          pickTaxRate(rates, billTo.country, billTo.region, request.issuedOn),
        )
      : undefined;
  return draftProrationDocument({
    subscription: request.subscription,
    billTo,
    rates,
    proration,
    description: prorationLineDescription(
      request.planName,
      request.seatsBefore,
      request.seatsAfter,
      proration,
      request.effectiveDate,
      period,
    ),
    effectiveDate: request.effectiveDate,
    period,
    issuedOn: request.issuedOn,
    dueOn: request.dueOn,
    ...(credited ? { credited } : {}),
  });
}
