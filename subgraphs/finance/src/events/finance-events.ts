import type { NewEvent } from '@c2c/platform/events';

/** Data of `invoice.posted`: billing marks the document posted (docs/events.md). */
export interface InvoicePostedData {
  invoiceId: string;
  journalEntryId: string;
  postedAt: string;
  /** The CRM order whose first invoice this is (echoed from `invoice.issued`). */
  orderId?: string;
}

/** Data of `posting.failed`: the ERP gave up on a billing document after its retries (dead-lettered). */
export interface PostingFailedData {
  invoiceId: string;
  amendmentId?: string;
  /** The CRM order whose first invoice this is (echoed from `invoice.issued`). */
  orderId?: string;
  error: string;
  attempts: number;
}

/** Data of `payment.applied`: billing marks the invoice paid when `amountDueMinor` reaches 0. */
export interface PaymentAppliedData {
  paymentId: string;
  invoiceId: string;
  amountMinor: number;
  currency: string;
  receivedOn: string;
  amountDueMinor: number;
}

export function invoicePostedEvent(data: InvoicePostedData): NewEvent<InvoicePostedData> {
  return { type: 'invoice.posted', subject: data.invoiceId, data };
}

export function paymentAppliedEvent(data: PaymentAppliedData): NewEvent<PaymentAppliedData> {
  return { type: 'payment.applied', subject: data.invoiceId, data };
}

export function postingFailedEvent(data: PostingFailedData): NewEvent<PostingFailedData> {
  return { type: 'posting.failed', subject: data.invoiceId, data };
}
