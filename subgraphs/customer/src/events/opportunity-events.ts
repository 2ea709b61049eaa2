import type { NewEvent } from '@c2c/platform/events';
import type { OpportunityRow } from '../data/opportunity.repository.ts';
import type { OrderRow } from '../data/order.repository.ts';

/** Data of `opportunity.won`: the deal's terms and the order it started, so billing needs no other source. */
export interface OpportunityWonData {
  opportunityId: string;
  orderId: string;
  customerId: string;
  planCode: string;
  seats: number;
  startDate: string;
  version: number;
}

export function opportunityWonEvent(
  opportunity: OpportunityRow,
  order: OrderRow,
): NewEvent<OpportunityWonData> {
  return {
    type: 'opportunity.won',
    subject: opportunity.id,
    aggregateVersion: opportunity.version,
    data: {
      opportunityId: opportunity.id,
      orderId: order.id,
      customerId: opportunity.customer_id,
      planCode: opportunity.plan_code,
      seats: opportunity.seats,
      startDate: opportunity.start_date,
      version: opportunity.version,
    },
  };
}
