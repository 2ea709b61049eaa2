import type { OrderStepResolvers } from '../generated/resolvers.ts';

export const OrderStep: OrderStepResolvers = {
  lastError: (row) => row.last_error,
  completedAt: (row) => row.completed_at,
};
