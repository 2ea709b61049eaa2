import type { EventEffect } from '@c2c/platform/events/reading';
import type { ContractValueService } from '../domain/contract-value.service.ts';
import type { OrderWorkflow } from '../domain/order-workflow.ts';
import { orderConsumer } from './order-events.ts';
import { contractValueConsumer } from './subscription-events.ts';

export { onContractValueDeadLetter } from './subscription-events.ts';

/** The CRM's durable consumers, by name (each listed for its event types in the event catalog). */
export function customerConsumers(services: {
  contracts: ContractValueService;
  orders: OrderWorkflow;
}): Record<string, Record<string, EventEffect>> {
  return {
    'customer.contract-value': contractValueConsumer(services.contracts, services.orders),
    'customer.order': orderConsumer(services.orders),
  };
}
