import type { AnyTransaction } from '@c2c/platform/db';
import {
  upsertContracts,
  upsertCustomerMaster,
  type ContractValues,
  type CustomerMasterValues,
} from '../data/replica.repository.ts';

/**
 * The ERP's replicas of other systems' records (CRM accounts, billing's contracts), kept from their
 * events in the consumer's transaction. Each apply is false when a newer version was already applied.
 */
export class ReplicaService {
  applyCustomer(trx: AnyTransaction, values: CustomerMasterValues): Promise<boolean> {
    return upsertCustomerMaster(trx, values);
  }

  /**
   * Applies contract records in their order (one, or a batch's) in one statement: of several
   * versions of one subscription the newest counts, as applying each in turn would leave it.
   * Returns, per record, false when a newer version (stored, or earlier in the list) covers it.
   */
  async applyContracts(trx: AnyTransaction, records: readonly ContractValues[]): Promise<boolean[]> {
    const newest = new Map<string, ContractValues>();
    for (const record of records) {
      const earlier = newest.get(record.subscription_id);
      if (!earlier || earlier.version < record.version) newest.set(record.subscription_id, record);
    }
    const written = await upsertContracts(trx, [...newest.values()]);
    return records.map(
      (record) => newest.get(record.subscription_id) === record && written.has(record.subscription_id),
    );
  }
}
