import type { NewEvent } from '@c2c/platform/events';
import type { ContractChangeRow } from '../data/contract-change.repository.ts';

/** Data of `contractchange.requested`: a commercial amendment recorded in the CRM, for billing to apply. */
export interface ContractChangeRequestedData {
  changeId: string;
  customerId: string;
  subscriptionId: string;
  seats: number;
  effectiveDate: string;
  reason: string | null;
}

export function contractChangeRequestedEvent(row: ContractChangeRow): NewEvent<ContractChangeRequestedData> {
  return {
    type: 'contractchange.requested',
    subject: row.id,
    data: {
      changeId: row.id,
      customerId: row.customer_id,
      subscriptionId: row.subscription_id,
      seats: row.seats,
      effectiveDate: row.effective_date,
      reason: row.reason,
    },
  };
}
