import type { EventEffect } from '@c2c/platform/events/reading';
import type { PostingService } from '../domain/posting.service.ts';
import type { ReplicaService } from '../domain/replica.service.ts';
import { billingConsumer } from './billing-events.ts';
import { customerMasterConsumer } from './customer-events.ts';

export { onBillingDeadLetter } from './billing-events.ts';

/** The ERP's durable consumers, by name (each listed for its event types in the event catalog). */
export function financeConsumers(services: {
  posting: PostingService;
  replicas: ReplicaService;
}): Record<string, Record<string, EventEffect>> {
  return {
    'finance.billing': billingConsumer(services.posting, services.replicas),
    'finance.customer-master': customerMasterConsumer(services.replicas),
  };
}
