import type { NewEvent } from '@c2c/platform/events';
import type { CustomerRow } from '../data/customer.repository.ts';

/** Data of `customer.created` / `customer.updated`: the full account, so replicas need no other source. */
export interface CustomerEventData {
  id: string;
  name: string;
  email: string;
  status: string;
  businessUnit: string;
  segment: string | null;
  country: string;
  region: string | null;
  parentId: string | null;
  version: number;
}

export function customerEvent(
  type: 'customer.created' | 'customer.updated',
  row: CustomerRow,
): NewEvent<CustomerEventData> {
  return {
    type,
    subject: row.id,
    aggregateVersion: row.version,
    data: {
      id: row.id,
      name: row.name,
      email: row.email,
      status: row.status,
      businessUnit: row.business_unit,
      segment: row.segment,
      country: row.country,
      region: row.region,
      parentId: row.parent_id,
      version: row.version,
    },
  };
}
