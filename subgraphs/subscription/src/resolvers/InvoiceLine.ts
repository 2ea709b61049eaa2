import { formatRate, money } from '@c2c/platform/core';
import type { InvoiceLineResolvers } from '../generated/resolvers.ts';

export const InvoiceLine: InvoiceLineResolvers = {
  unitPrice: (line) => money(line.unit_price_minor, line.currency),
  amount: (line) => money(line.amount_minor, line.currency),
  taxRate: (line) => formatRate(line.tax_rate_ppm),
  tax: (line) => money(line.tax_minor, line.currency),
  periodStart: (line) => line.period_start,
  periodEnd: (line) => line.period_end,
  usageMetric: (line) => line.usage_metric ?? null,
  usageQuantity: (line) => line.usage_quantity ?? null,
  usageUnitPrice: (line) => line.usage_unit_price ?? null,
  usageAdjustment: (line) => line.usage_adjustment === true,
};
