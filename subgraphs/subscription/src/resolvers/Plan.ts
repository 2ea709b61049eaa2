import { money } from '@c2c/platform/core';
import type { UsagePriceDefinition } from '../domain/usage.rules.ts';
import type { PlanResolvers } from '../generated/resolvers.ts';

export const Plan: PlanResolvers = {
  __resolveReference: (ref, ctx) => ctx.loadPlan(ref.code),
  billingPeriod: (row) => row.billing_period,
  unitPrice: (row) => money(row.unit_price_minor, row.currency),
  minSeats: (row) => row.min_seats,
  maxSeats: (row) => row.max_seats,
  createdAt: (row) => row.created_at,
  usagePrices: (row) =>
    ((row.usage_prices as UsagePriceDefinition[] | null) ?? []).map((price) => ({
      metric: price.metric,
      includedQuantity: price.includedQuantity,
      tiers: price.tiers.map((tier) => ({
        upTo: tier.upTo,
        unitPrice: { amount: tier.unitPrice, currency: row.currency },
      })),
    })),
};
