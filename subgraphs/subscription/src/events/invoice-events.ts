import type { NewEvent } from '@c2c/platform/events';
import type { InvoiceLineRow, InvoiceRow } from '../data/invoice.repository.ts';

export interface InvoiceLineEventData {
  id: string;
  description: string;
  quantity: number;
  unitPriceMinor: number;
  amountMinor: number;
  taxMinor: number;
  taxRatePpm: number;
  periodStart: string;
  periodEnd: string;
  /** Usage lines only (added with usage billing): the metric, the exact quantity, an adjustment or not. */
  usageMetric?: string;
  usageQuantity?: string;
  usageAdjustment?: boolean;
}

/** Data of `invoice.issued` / `creditnote.issued`; a credit note's amounts are negative. */
export interface InvoiceEventData {
  id: string;
  number: string;
  kind: string;
  customerId: string;
  subscriptionId: string;
  businessUnit: string;
  currency: string;
  issuedOn: string;
  dueOn: string;
  subtotalMinor: number;
  taxMinor: number;
  totalMinor: number;
  lines: InvoiceLineEventData[];
  /** The amendment whose proration this document bills or credits, or the renewal it bills. */
  amendmentId?: string;
  /** The CRM order whose subscription this first invoice opens; the ERP echoes it on `invoice.posted`. */
  orderId?: string;
}

/** `aggregateVersion` is the subscription's version that the document belongs to. */
export function invoiceIssuedEvent(
  invoice: InvoiceRow,
  lines: readonly InvoiceLineRow[],
  subscriptionVersion: number,
  amendmentId?: string,
  orderId?: string,
): NewEvent<InvoiceEventData> {
  return {
    type: invoice.kind === 'CREDIT_NOTE' ? 'creditnote.issued' : 'invoice.issued',
    subject: invoice.id,
    aggregateVersion: subscriptionVersion,
    data: {
      id: invoice.id,
      number: invoice.number,
      kind: invoice.kind,
      customerId: invoice.customer_id,
      subscriptionId: invoice.subscription_id,
      businessUnit: invoice.business_unit,
      currency: invoice.currency,
      issuedOn: invoice.issued_on,
      dueOn: invoice.due_on,
      subtotalMinor: invoice.subtotal_minor,
      taxMinor: invoice.tax_minor,
      totalMinor: invoice.total_minor,
      lines: lines.map((line) => ({
        id: line.id,
        description: line.description,
        quantity: line.quantity,
        unitPriceMinor: line.unit_price_minor,
        amountMinor: line.amount_minor,
        taxMinor: line.tax_minor,
        taxRatePpm: line.tax_rate_ppm,
        periodStart: line.period_start,
        periodEnd: line.period_end,
        ...(line.usage_metric !== null
          ? {
              usageMetric: line.usage_metric,
              usageQuantity: line.usage_quantity ?? '0',
              usageAdjustment: line.usage_adjustment === true,
            }
          : {}),
      })),
      ...(amendmentId ? { amendmentId } : {}),
      ...(orderId ? { orderId } : {}),
    },
  };
}
