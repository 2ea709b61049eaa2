import type { AmendmentStepResolvers } from '../generated/resolvers.ts';

export const AmendmentStep: AmendmentStepResolvers = {
  lastError: (row) => row.last_error,
  completedAt: (row) => row.completed_at,
};
