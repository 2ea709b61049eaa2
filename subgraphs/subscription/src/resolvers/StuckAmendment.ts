import { present } from '@c2c/platform/graphql';
import type { StuckAmendmentResolvers } from '../generated/resolvers.ts';

export const StuckAmendment: StuckAmendmentResolvers = {
  amendment: (row, _, ctx) => present(ctx.loaders.amendmentById.load(row.id), `amendment ${row.id}`),
};
