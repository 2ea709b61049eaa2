import type { AmendmentStepRow } from '../data/amendment.repository.ts';

export const AmendmentStep = {
  lastError: (row: AmendmentStepRow) => row.last_error,
  completedAt: (row: AmendmentStepRow) => row.completed_at,
};
