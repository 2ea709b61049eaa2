import { formatRate, money } from '@c2c/platform/core';
import type { InvoiceLineRow } from '../data/invoice.repository.ts';

type PricedLine = InvoiceLineRow & { currency: string };

export const InvoiceLine = {
  unitPrice: (line: PricedLine) => money(line.unit_price_minor, line.currency),
  amount: (line: PricedLine) => money(line.amount_minor, line.currency),
  taxRate: (line: PricedLine) => formatRate(line.tax_rate_ppm),
  tax: (line: PricedLine) => money(line.tax_minor, line.currency),
  periodStart: (line: PricedLine) => line.period_start,
  periodEnd: (line: PricedLine) => line.period_end,
};
