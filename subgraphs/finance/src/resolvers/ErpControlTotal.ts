import { money } from '@c2c/platform/core';
import type { ErpControlTotalRow } from '../data/reconciliation.repository.ts';

export const ErpControlTotal = {
  total: (row: ErpControlTotalRow) => money(row.totalMinor, row.currency),
};
