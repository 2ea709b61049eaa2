import { connectionOf, decodeCursor, pageSize } from '@c2c/platform/core';
import { activityMinutes } from '../domain/amendment-monitor.service.ts';
import type { QueryResolvers } from '../generated/resolvers.ts';

const isSeqPosition = (value: unknown): value is { seq: number } =>
  typeof value === 'object' && value !== null && Number.isInteger((value as { seq?: unknown }).seq);

/** Query fields of the operators' view of the amendment workflow (the ops console). */
export const MonitorQueries: QueryResolvers = {
  amendments: async (_, args, ctx) => {
    const status = args.status ?? null;
    const first = pageSize(args.first, 20);
    const after = decodeCursor(args.after, isSeqPosition);
    const rows = await ctx.monitor.newestFirst(status, after?.seq ?? null, first + 1);
    const page = connectionOf(
      rows,
      first,
      (row) => ({ seq: row.seq }),
      () => ctx.monitor.count(status),
    );
    for (const row of page.nodes) ctx.loaders.amendmentById.prime(row.id, row);
    return page;
  },
  openAmendmentCounts: (_, __, ctx) => ctx.monitor.openCounts(),
  amendmentActivity: (_, args, ctx) => ctx.monitor.activity(activityMinutes(args.minutes)),
};
