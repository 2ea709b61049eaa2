import { money } from '@c2c/platform/core';
import type { CrmContractValueResolvers } from '../generated/resolvers.ts';

/** A customer row with a contract value: the query leaves the others out, and a value always has its currency. */
export const CrmContractValue: CrmContractValueResolvers = {
  customer: (row) => row,
  annualValue: (row) => money(row.contract_value_minor ?? 0, row.contract_currency as string),
};
