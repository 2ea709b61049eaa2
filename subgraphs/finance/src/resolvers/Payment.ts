import { money } from '@c2c/platform';
import type { PaymentRow } from '../data/payment.repository.ts';

export const Payment = {
  amount: (row: PaymentRow) => money(row.amount_minor, row.currency),
  receivedOn: (row: PaymentRow) => row.received_on,
  // Billing owns the invoice's other fields; the gateway fetches them by this key.
  invoice: (row: PaymentRow) => ({ __typename: 'Invoice', id: row.invoice_id }),
  createdAt: (row: PaymentRow) => row.created_at,
};
