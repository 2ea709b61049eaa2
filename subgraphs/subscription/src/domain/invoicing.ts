import { v7 as uuidv7 } from 'uuid';
import type { AnyDb, IsoDate, Period } from '@c2c/platform';
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
  type LineDraft,
  type TaxRateChoice,
} from './invoice.rules.ts';
import { prorationLine, type Proration } from './proration.ts';

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
}

/** Issues the in-advance invoice of one full period, inside the caller's transaction. */
export async function issuePeriodInvoice(trx: AnyDb, request: PeriodInvoiceRequest): Promise<IssuedDocument> {
  const { subscription, billTo, period } = request;
  const rate = pickTaxRate(request.rates, billTo.country, billTo.region, request.issuedOn);
  const line = seatLine({
    description: seatLineDescription(request.planName, subscription.seats, period),
    seats: subscription.seats,
    unitPriceMinor: subscription.unit_price_minor,
    ratePpm: rate.ratePpm,
    period,
  });
  return insertDocument(trx, 'INVOICE', { ...request, rate, line });
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
}

/**
 * Issues the one-line proration document of an amendment: an invoice for more seats, a credit
 * note (negative amounts and tax) for fewer. Tax as on any invoice: the rate valid on the issue
 * date for the bill-to address, HALF_UP once on the line.
 */
export async function issueProrationDocument(
  trx: AnyDb,
  request: ProrationDocumentRequest,
): Promise<IssuedDocument> {
  const { billTo } = request;
  const rate = pickTaxRate(request.rates, billTo.country, billTo.region, request.issuedOn);
  const line = prorationLine({
    description: request.description,
    proration: request.proration,
    unitPriceMinor: request.subscription.unit_price_minor,
    ratePpm: rate.ratePpm,
    effectiveDate: request.effectiveDate,
    period: request.period,
  });
  const kind = request.proration.amountMinor < 0 ? 'CREDIT_NOTE' : 'INVOICE';
  return insertDocument(trx, kind, { ...request, rate, line });
}

async function insertDocument(
  trx: AnyDb,
  kind: 'INVOICE' | 'CREDIT_NOTE',
  request: {
    subscription: SubscriptionRow;
    billTo: BillToRow;
    issuedOn: IsoDate;
    dueOn: IsoDate;
    rate: TaxRateChoice;
    line: LineDraft;
  },
): Promise<IssuedDocument> {
  const { subscription, billTo, rate, line } = request;
  const totals = invoiceTotals([line]);
  const invoiceId = uuidv7();
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
      tax_rate_missing: rate.missing,
      journal_entry_id: null,
      posted_at: null,
      posting_error: null,
    },
    [
      {
        id: uuidv7(),
        invoice_id: invoiceId,
        line_no: 1,
        description: line.description,
        quantity: line.quantity,
        unit_price_minor: line.unitPriceMinor,
        amount_minor: line.amountMinor,
        tax_rate_ppm: line.taxRatePpm,
        tax_minor: line.taxMinor,
        period_start: line.periodStart,
        period_end: line.periodEnd,
      },
    ],
  );
}
