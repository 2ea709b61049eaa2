import type { EventEffect } from '@c2c/platform/events/reading';
import type { ContractChangeService } from '../domain/contract-change.service.ts';
import type { BillToService } from '../domain/bill-to.service.ts';
import type { CrmAcknowledgementService } from '../domain/crm-acknowledgement.service.ts';
import type { ErpAcknowledgementService } from '../domain/erp-acknowledgement.service.ts';
import type { OrderService } from '../domain/order.service.ts';
import { contractChangeConsumer } from './crm-contract-change-events.ts';
import { crmAckConsumer } from './crm-events.ts';
import { orderConsumer } from './crm-order-events.ts';
import { billToConsumer } from './customer-events.ts';
import { erpAckConsumer } from './finance-events.ts';

/** Billing's durable consumers, by name (each listed for its event types in the event catalog). */
export function subscriptionConsumers(services: {
  billTo: BillToService;
  erpAcknowledgements: ErpAcknowledgementService;
  crmAcknowledgements: CrmAcknowledgementService;
  orders: OrderService;
  contractChanges: ContractChangeService;
}): Record<string, Record<string, EventEffect>> {
  return {
    'subscription.bill-to': billToConsumer(services.billTo),
    'subscription.erp-ack': erpAckConsumer(services.erpAcknowledgements),
    'subscription.crm-ack': crmAckConsumer(services.crmAcknowledgements),
    'subscription.order': orderConsumer(services.orders),
    'subscription.contract-change': contractChangeConsumer(services.contractChanges),
  };
}

export { onOrderDeadLetter } from './crm-order-events.ts';
