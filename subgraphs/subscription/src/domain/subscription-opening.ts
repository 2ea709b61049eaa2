import { v7 as uuidv7 } from 'uuid';
import type { IsoDate } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import type { NewEvent } from '@c2c/platform/events';
import type { BillToRow } from '../data/bill-to.repository.ts';
import type { InvoiceRow } from '../data/invoice.repository.ts';
import type { PlanRow } from '../data/plan.repository.ts';
import type { SubscriptionRow } from '../data/subscription.repository.ts';
import { findTaxRates } from '../data/tax-rate.repository.ts';
import { invoiceIssuedEvent } from '../events/invoice-events.ts';
import { subscriptionEvent } from '../events/subscription-events.ts';
import type { BillingPort } from '../ports/billing.port.ts';
import { firstInvoiceDates } from './invoice.rules.ts';

/**
 * Opens a subscription at the plan's terms with its first period invoice through the billing
 * platform, inside the caller's transaction, and returns the events to append with it
 * (`subscription.created`, `invoice.issued`). The admin call and an order both open subscriptions
 * this way; an order's id travels on both events so the CRM and the ERP can tell the order's steps.
 */
export async function openSubscription(
  billing: BillingPort,
  trx: AnyTransaction,
  request: {
    billTo: BillToRow;
    plan: PlanRow;
    seats: number;
    startDate: IsoDate;
    today: IsoDate;
    orderId?: string;
  },
): Promise<{ subscription: SubscriptionRow; invoice: InvoiceRow; events: NewEvent<unknown>[] }> {
  const { billTo, plan, orderId } = request;
  const { subscription, invoice } = await billing.openSubscription(trx, {
    subscriptionId: uuidv7(),
    invoiceId: uuidv7(),
    billTo,
    plan,
    seats: request.seats,
    startDate: request.startDate,
    rates: await findTaxRates(trx, [billTo.country]),
    ...firstInvoiceDates(request.startDate, request.today),
  });
  return {
    subscription,
    invoice: invoice.invoice,
    events: [
      subscriptionEvent('subscription.created', subscription, undefined, orderId),
      invoiceIssuedEvent(invoice.invoice, invoice.lines, subscription.version, undefined, orderId),
    ],
  };
}
