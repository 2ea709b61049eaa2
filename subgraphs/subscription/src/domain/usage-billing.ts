import type { Insertable } from 'kysely';
import { applyRate, type Period } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import type { UsageChargeTable } from '../data/tables.ts';
import { findUnbilledPeriods, markPeriodBilled } from '../data/usage.repository.ts';
import type { LineDraft } from './invoice.rules.ts';
import {
  formatQuantity,
  ratedTotal,
  rateUsage,
  usageAdjustmentDescription,
  usageLineDescription,
  type UsagePrice,
} from './usage.rules.ts';

/** A usage amount to bill, before tax: one tier of a period, or a late period's adjustment. */
export interface UsageItem {
  description: string;
  amountMinor: number;
  period: Period;
  metric: string;
  quantityMicro: bigint;
  unitPrice: string | null;
  adjustment: boolean;
}

/** What an invoice bills of usage: its lines before tax and the charges to record with it. */
export interface UsageBilling {
  items: UsageItem[];
  charges: Insertable<UsageChargeTable>[];
}

/**
 * Rates a subscription's unbilled usage up to `endedPeriod` for `invoiceId`: the ended period's
 * usage as one item per tier used; each earlier period with late events as one adjustment per
 * metric, the period re-rated with everything recorded minus what invoices already billed of it
 * (so over a period, invoiced usage equals recorded usage, tiers recomputed). Marks the periods
 * billed; the caller inserts the invoice and then the charges.
 */
export async function billUsage(
  trx: AnyTransaction,
  subscriptionId: string,
  prices: readonly UsagePrice[],
  endedPeriod: Period,
  invoiceId: string,
): Promise<UsageBilling> {
  const byMetric = new Map(prices.map((price) => [price.metric, price]));
  const periods = await findUnbilledPeriods(trx, subscriptionId, endedPeriod.end);
  const billing: UsageBilling = { items: [], charges: [] };
  for (const row of periods) {
    const price = byMetric.get(row.metric);
    // Ingestion only stores metrics the plan prices; a plan's prices never change.
    if (!price) throw new Error(`subscription ${subscriptionId} has usage of unpriced metric ${row.metric}`);
    const period = { start: row.period_start, end: row.period_end };
    const total = BigInt(row.quantity);
    const billedQuantity = BigInt(row.billed_quantity);
    const rated = rateUsage(price, total);
    const amount = ratedTotal(rated);
    const adjustment = row.invoiced || period.end !== endedPeriod.end;
    if (!adjustment) {
      for (const charge of rated) {
        billing.items.push({
          description: usageLineDescription(row.metric, charge, period),
          amountMinor: charge.amountMinor,
          period,
          metric: row.metric,
          quantityMicro: charge.quantityMicro,
          unitPrice: charge.unitPrice,
          adjustment: false,
        });
      }
    } else if (amount !== row.billed_amount_minor) {
      billing.items.push({
        description: usageAdjustmentDescription(row.metric, period),
        amountMinor: amount - row.billed_amount_minor,
        period,
        metric: row.metric,
        quantityMicro: total - billedQuantity,
        unitPrice: null,
        adjustment: true,
      });
    }
    await markPeriodBilled(trx, subscriptionId, row, amount);
    billing.charges.push({
      invoice_id: invoiceId,
      subscription_id: subscriptionId,
      period_start: period.start,
      period_end: period.end,
      metric: row.metric,
      quantity_micro: (total - billedQuantity).toString(),
      amount_minor: amount - row.billed_amount_minor,
      adjustment,
    });
  }
  return billing;
}

/** A usage item as an invoice line, taxed HALF_UP once on the line like any other. */
export function usageLine(item: UsageItem, ratePpm: number): LineDraft {
  return {
    description: item.description,
    quantity: 1,
    unitPriceMinor: item.amountMinor,
    amountMinor: item.amountMinor,
    taxRatePpm: ratePpm,
    taxMinor: applyRate(item.amountMinor, ratePpm),
    periodStart: item.period.start,
    periodEnd: item.period.end,
    usage: {
      metric: item.metric,
      quantity: formatQuantity(item.quantityMicro),
      unitPrice: item.unitPrice,
      adjustment: item.adjustment,
    },
  };
}
