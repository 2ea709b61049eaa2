import type { Insertable } from 'kysely';
import { applyRate, type Period } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import type { UsageChargeTable } from '../data/tables.ts';
import { billedEventQuantity, chargedSoFar, claimUnbilledUsage } from '../data/usage.repository.ts';
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
 * Claims a subscription's unbilled usage up to `endedPeriod` for `invoiceId` and rates it: the
 * ended period's usage as one item per tier used; each earlier period with late events as one
 * adjustment per metric, the period re-rated with every billed event minus what invoices already
 * billed of it (so over a period, invoiced usage equals recorded usage, tiers recomputed).
 */
export async function billUsage(
  trx: AnyTransaction,
  subscriptionId: string,
  prices: readonly UsagePrice[],
  endedPeriod: Period,
  invoiceId: string,
): Promise<UsageBilling> {
  const byMetric = new Map(prices.map((price) => [price.metric, price]));
  const claimed = await claimUnbilledUsage(trx, subscriptionId, endedPeriod.end, invoiceId);
  const billing: UsageBilling = { items: [], charges: [] };
  for (const group of claimed) {
    const price = byMetric.get(group.metric);
    // Ingestion only stores metrics the plan prices; a plan's prices never change.
    if (!price)
      throw new Error(`subscription ${subscriptionId} has usage of unpriced metric ${group.metric}`);
    const period = { start: group.period_start, end: group.period_end };
    const total = await billedEventQuantity(trx, subscriptionId, period.start, group.metric);
    const before = await chargedSoFar(trx, subscriptionId, period.start, group.metric);
    const rated = rateUsage(price, total);
    const adjustment = before.charges > 0 || period.end !== endedPeriod.end;
    if (!adjustment) {
      for (const charge of rated) {
        billing.items.push({
          description: usageLineDescription(group.metric, charge, period),
          amountMinor: charge.amountMinor,
          period,
          metric: group.metric,
          quantityMicro: charge.quantityMicro,
          unitPrice: charge.unitPrice,
          adjustment: false,
        });
      }
    } else {
      const difference = ratedTotal(rated) - before.amountMinor;
      if (difference !== 0) {
        billing.items.push({
          description: usageAdjustmentDescription(group.metric, period),
          amountMinor: difference,
          period,
          metric: group.metric,
          quantityMicro: total - before.quantityMicro,
          unitPrice: null,
          adjustment: true,
        });
      }
    }
    billing.charges.push({
      invoice_id: invoiceId,
      subscription_id: subscriptionId,
      period_start: period.start,
      period_end: period.end,
      metric: group.metric,
      quantity_micro: (total - before.quantityMicro).toString(),
      amount_minor: ratedTotal(rated) - before.amountMinor,
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
