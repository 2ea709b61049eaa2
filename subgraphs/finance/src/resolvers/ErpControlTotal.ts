import { money } from '@c2c/platform/core';
import type { ErpControlTotalResolvers } from '../generated/resolvers.ts';

export const ErpControlTotal: ErpControlTotalResolvers = {
  total: (row) => money(row.totalMinor, row.currency),
};
