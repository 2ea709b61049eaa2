import { money } from '@c2c/platform/core';
import type { PaymentResolvers } from '../generated/resolvers.ts';

export const Payment: PaymentResolvers = {
  amount: (row) => money(row.amount_minor, row.currency),
  receivedOn: (row) => row.received_on,
  // Billing owns the invoice's other fields; the gateway fetches them by this key.
  // A mutation's payload carries the receivable as the payment left it (a replay shows the same).
  invoice: (row) => ({
    __typename: 'Invoice',
    id: row.invoice_id,
    ...(row.receivable ? { receivable: row.receivable } : {}),
  }),
  createdAt: (row) => row.created_at,
};
