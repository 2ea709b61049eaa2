import type { Insertable } from 'kysely';
import type { AnyTransaction } from '@c2c/platform/db';
import type { BillToAccountTable } from '../data/tables.ts';
import type { BillingPort } from '../ports/billing.port.ts';

/** Billing's bill-to replica of CRM customers, kept from `customer.*` events in the consumer's transaction. */
export class BillToService {
  constructor(private readonly billing: BillingPort) {}

  /** Applies a customer's version; false when this or a newer version was already applied. */
  applyCustomer(
    trx: AnyTransaction,
    row: Omit<Insertable<BillToAccountTable>, 'updated_at'>,
  ): Promise<boolean> {
    return this.billing.applyCustomer(trx, row);
  }
}
