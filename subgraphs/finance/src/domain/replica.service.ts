import type { AnyTransaction } from '@c2c/platform/db';
import {
  upsertContract,
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

  applyContract(trx: AnyTransaction, values: ContractValues): Promise<boolean> {
    return upsertContract(trx, values);
  }
}
