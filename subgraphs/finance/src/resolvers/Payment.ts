import { money } from '@c2c/platform/core';
import type { PaymentRow } from '../data/payment.repository.ts';
import type { ReceivableRow } from '../data/receivable.repository.ts';

export const Payment = {
  amount: (row: PaymentRow) => money(row.amount_minor, row.currency),
  receivedOn: (row: PaymentRow) => row.received_on,
  // Billing owns the invoice's other fields; the gateway fetches them by this key.
  // A mutation's payload carries the receivable as the payment left it (a replay shows the same).
  invoice: (row: PaymentRow & { receivable?: ReceivableRow }) => ({
    __typename: 'Invoice',
    id: row.invoice_id,
    ...(row.receivable ? { receivable: row.receivable } : {}),
  }),
  createdAt: (row: PaymentRow) => row.created_at,
};
