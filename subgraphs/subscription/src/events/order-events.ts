import type { NewEvent } from '@c2c/platform/events';
import type { OrderCheck } from '../domain/order.rules.ts';

/** Data of `order.rejected`: a check failed; nothing was created. */
export interface OrderRejectedData {
  orderId: string;
  opportunityId: string;
  customerId: string;
  checks: OrderCheck[];
}

/** Data of `order.subscribed`: the checks passed; billing created the subscription and its first invoice. */
export interface OrderSubscribedData {
  orderId: string;
  opportunityId: string;
  customerId: string;
  subscriptionId: string;
  invoiceId: string | null;
  checks: OrderCheck[];
}

/** Data of `order.failed`: billing gave up on an order's `opportunity.won` (dead-lettered). */
export interface OrderFailedData {
  orderId: string;
  error: string;
  attempts: number;
}

export function orderRejectedEvent(data: OrderRejectedData): NewEvent<OrderRejectedData> {
  return { type: 'order.rejected', subject: data.orderId, data };
}

export function orderSubscribedEvent(data: OrderSubscribedData): NewEvent<OrderSubscribedData> {
  return { type: 'order.subscribed', subject: data.orderId, data };
}

export function orderFailedEvent(data: OrderFailedData): NewEvent<OrderFailedData> {
  return { type: 'order.failed', subject: data.orderId, data };
}
