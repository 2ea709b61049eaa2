import type { NewEvent } from '@c2c/platform/events';
import type { SubscriptionRow } from '../data/subscription.repository.ts';

export type SubscriptionEventType =
  'subscription.created' | 'subscription.renewed' | 'subscription.amended' | 'subscription.cancelled';

/** Data of `subscription.*`: the whole contract, so the CRM and the ERP need no other source. */
export interface SubscriptionEventData {
  id: string;
  customerId: string;
  planCode: string;
  billingPeriod: string;
  status: string;
  seats: number;
  unitPriceMinor: number;
  currency: string;
  startDate: string;
  currentPeriod: { start: string; end: string };
  version: number;
  /** The amendment that produced this version: a seat change, cancellation or renewal (not a creation). */
  amendmentId?: string;
  /** The CRM order (a won opportunity) that created the subscription; on `subscription.created` only. */
  orderId?: string;
}

export function subscriptionEvent(
  type: SubscriptionEventType,
  row: SubscriptionRow,
  amendmentId?: string,
  orderId?: string,
): NewEvent<SubscriptionEventData> {
  return {
    type,
    subject: row.id,
    aggregateVersion: row.version,
    data: {
      id: row.id,
      customerId: row.customer_id,
      planCode: row.plan_code,
      billingPeriod: row.billing_period,
      status: row.status,
      seats: row.seats,
      unitPriceMinor: row.unit_price_minor,
      currency: row.currency,
      startDate: row.start_date,
      currentPeriod: { start: row.current_period_start, end: row.current_period_end },
      version: row.version,
      ...(amendmentId ? { amendmentId } : {}),
      ...(orderId ? { orderId } : {}),
    },
  };
}
