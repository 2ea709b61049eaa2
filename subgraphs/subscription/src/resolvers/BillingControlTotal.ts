import { money } from '@c2c/platform/core';
import type { BillingControlTotalResolvers } from '../generated/resolvers.ts';

export const BillingControlTotal: BillingControlTotalResolvers = {
  total: (row) => money(row.totalMinor, row.currency),
  inFlightTotal: (row) => money(row.inFlightTotalMinor, row.currency),
};
