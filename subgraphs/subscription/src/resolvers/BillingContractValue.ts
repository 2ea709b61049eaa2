import { money } from '@c2c/platform/core';
import type { BillingContractValueResolvers } from '../generated/resolvers.ts';

export const BillingContractValue: BillingContractValueResolvers = {
  customer: (row) => ({ __typename: 'Customer', id: row.customerId }),
  annualValue: (row) => money(row.annualValueMinor, row.currency),
};
