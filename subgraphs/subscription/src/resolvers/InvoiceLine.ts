import { formatRate, money } from '@c2c/platform/core';
import type { InvoiceLineResolvers } from '../generated/resolvers.ts';

export const InvoiceLine: InvoiceLineResolvers = {
  unitPrice: (line) => money(line.unit_price_minor, line.currency),
  amount: (line) => money(line.amount_minor, line.currency),
  taxRate: (line) => formatRate(line.tax_rate_ppm),
  tax: (line) => money(line.tax_minor, line.currency),
  periodStart: (line) => line.period_start,
  periodEnd: (line) => line.period_end,
  usage: (line) =>
    line.usage_metric === null || line.usage_metric === undefined
      ? null
      : {
          metric: line.usage_metric,
          quantity: line.usage_quantity ?? '0',
          unitPrice:
            line.usage_unit_price === null || line.usage_unit_price === undefined
              ? null
              : { amount: line.usage_unit_price, currency: line.currency },
          adjustment: line.usage_adjustment === true,
        },
};
