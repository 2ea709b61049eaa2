import { money } from '@c2c/platform/core';
import type { PlanRow } from '../data/plan.repository.ts';
import type { SubscriptionContext } from '../context.ts';

export const Plan = {
  __resolveReference: (ref: { code: string }, ctx: SubscriptionContext) => ctx.loadPlan(ref.code),
  billingPeriod: (row: PlanRow) => row.billing_period,
  unitPrice: (row: PlanRow) => money(row.unit_price_minor, row.currency),
  minSeats: (row: PlanRow) => row.min_seats,
  maxSeats: (row: PlanRow) => row.max_seats,
  createdAt: (row: PlanRow) => row.created_at,
};
