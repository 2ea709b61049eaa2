import type { EventEffect } from '@c2c/platform/events/reading';
import type { ContractChangeService } from '../domain/contract-change.service.ts';
import type { ContractValueService } from '../domain/contract-value.service.ts';
import type { OrderWorkflow } from '../domain/order-workflow.ts';
import { contractChangeConsumer } from './contract-change-events.ts';
import { orderConsumer } from './order-events.ts';
import { contractValueConsumer } from './subscription-events.ts';

export { onContractValueDeadLetter } from './subscription-events.ts';

/** The CRM's durable consumers, by name (each listed for its event types in the event catalog). */
export function customerConsumers(services: {
  contracts: ContractValueService;
  orders: OrderWorkflow;
  changes: ContractChangeService;
}): Record<string, Record<string, EventEffect>> {
  return {
    'customer.contract-value': contractValueConsumer(services.contracts, services.orders),
    'customer.order': orderConsumer(services.orders),
    'customer.contract-change': contractChangeConsumer(services.changes),
  };
}
