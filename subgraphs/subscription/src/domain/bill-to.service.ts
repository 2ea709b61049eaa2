import type { Insertable } from 'kysely';
import type { AnyTransaction } from '@c2c/platform/db';
import { upsertBillTo } from '../data/bill-to.repository.ts';
import type { BillToAccountTable } from '../data/tables.ts';

/** Billing's bill-to replica of CRM customers, kept from `customer.*` events in the consumer's transaction. */
export class BillToService {
  /** Applies a customer's version; false when this or a newer version was already applied. */
  applyCustomer(
    trx: AnyTransaction,
    row: Omit<Insertable<BillToAccountTable>, 'updated_at'>,
  ): Promise<boolean> {
    return upsertBillTo(trx, row);
  }
}
