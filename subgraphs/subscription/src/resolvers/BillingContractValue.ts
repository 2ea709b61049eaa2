import { money } from '@c2c/platform/core';
import type { ContractValueRow } from '../data/reconciliation.repository.ts';

export const BillingContractValue = {
  customer: (row: ContractValueRow) => ({ __typename: 'Customer', id: row.customerId }),
  annualValue: (row: ContractValueRow) => money(row.annualValueMinor, row.currency),
};
