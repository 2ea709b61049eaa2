import { formatQuantity } from '../domain/usage.rules.ts';
import type { UsageReconciliationLineResolvers } from '../generated/resolvers.ts';

export const UsageReconciliationLine: UsageReconciliationLineResolvers = {
  subscriptionId: (row) => row.subscription_id,
  period: (row) => ({ start: row.period_start, end: row.period_end }),
  recorded: (row) => formatQuantity(BigInt(row.recorded)),
  invoiced: (row) => formatQuantity(BigInt(row.invoiced)),
  unbilled: (row) => formatQuantity(BigInt(row.unbilled)),
};
