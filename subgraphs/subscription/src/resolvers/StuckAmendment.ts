import type { StuckAmendmentRow } from '../data/reconciliation.repository.ts';
import type { SubscriptionContext } from '../context.ts';

export const StuckAmendment = {
  amendment: (row: StuckAmendmentRow, _: unknown, ctx: SubscriptionContext) =>
    ctx.loaders.amendmentById.load(row.id),
};
