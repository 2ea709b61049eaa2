import { v7 as uuidv7 } from 'uuid';
import { periodAt, type IsoDate } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import type { NewEvent } from '@c2c/platform/events';
import type { BillToRow } from '../data/bill-to.repository.ts';
import type { InvoiceRow } from '../data/invoice.repository.ts';
import type { PlanRow } from '../data/plan.repository.ts';
import { insertSubscription, type SubscriptionRow } from '../data/subscription.repository.ts';
import { findTaxRates } from '../data/tax-rate.repository.ts';
import { invoiceIssuedEvent } from '../events/invoice-events.ts';
import { subscriptionEvent } from '../events/subscription-events.ts';
import { firstInvoiceDates } from './invoice.rules.ts';
import { issuePeriodInvoice } from './invoicing.ts';

/**
 * Opens a subscription at the plan's terms with its first period invoice, inside the caller's
 * transaction, and returns the events to append with it (`subscription.created`,
 * `invoice.issued`). The admin call and an order both open subscriptions this way; an order's id
 * travels on both events so the CRM and the ERP can tell the order's steps.
 */
export async function openSubscription(
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
  const period = periodAt(request.startDate, plan.billing_period, 0);
  const subscription = await insertSubscription(trx, {
    id: uuidv7(),
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
  const issued = await issuePeriodInvoice(trx, {
    subscription,
    planName: plan.name,
    billTo,
    rates: await findTaxRates(trx, [billTo.country]),
    period,
    ...firstInvoiceDates(request.startDate, request.today),
  });
  return {
    subscription,
    invoice: issued.invoice,
    events: [
      subscriptionEvent('subscription.created', subscription, undefined, orderId),
      invoiceIssuedEvent(issued.invoice, issued.lines, subscription.version, undefined, orderId),
    ],
  };
}
