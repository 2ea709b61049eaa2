import type { EventEffect } from '@c2c/platform/events/reading';
import type { ContractValueService } from '../domain/contract-value.service.ts';
import { contractValueConsumer } from './subscription-events.ts';

export { onContractValueDeadLetter } from './subscription-events.ts';

/** The CRM's durable consumers, by name (each listed for its event types in the event catalog). */
export function customerConsumers(services: {
  contracts: ContractValueService;
}): Record<string, Record<string, EventEffect>> {
  return { 'customer.contract-value': contractValueConsumer(services.contracts) };
}
