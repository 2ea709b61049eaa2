import { money } from '@c2c/platform/core';
import type { BillingControlTotalRow } from '../data/reconciliation.repository.ts';

export const BillingControlTotal = {
  total: (row: BillingControlTotalRow) => money(row.totalMinor, row.currency),
  inFlightTotal: (row: BillingControlTotalRow) => money(row.inFlightTotalMinor, row.currency),
};
