import { money } from '@c2c/platform/core';
import type { CustomerRow } from '../data/customer.repository.ts';

/** A customer row with a contract value: the query leaves the others out, and a value always has its currency. */
export const CrmContractValue = {
  customer: (row: CustomerRow) => row,
  annualValue: (row: CustomerRow) => money(row.contract_value_minor ?? 0, row.contract_currency as string),
};
