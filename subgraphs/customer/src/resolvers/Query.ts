import { decodeCursor, encodeCursor, pageSize } from '@c2c/platform/core';
import { findCustomerPage } from '../data/customer.repository.ts';
import type { CustomerContext } from '../context.ts';

const isPosition = (value: unknown): value is { name: string; id: string } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { name?: unknown }).name === 'string' &&
  typeof (value as { id?: unknown }).id === 'string';

export const Query = {
  customer: (_: unknown, args: { id: string }, ctx: CustomerContext) => ctx.loadCustomer(args.id),
  customers: async (
    _: unknown,
    args: { businessUnit?: string | null; first?: number | null; after?: string | null },
    ctx: CustomerContext,
  ) => {
    const first = pageSize(args.first, 50);
    const after = decodeCursor(args.after, isPosition);
    const { rows, totalCount } = await findCustomerPage(ctx.db, {
      businessUnit: args.businessUnit ?? null,
      after,
      limit: first + 1,
    });
    const nodes = rows.slice(0, first);
    for (const row of nodes) ctx.loaders.customerById.prime(row.id, row);
    const last = nodes.at(-1);
    return {
      totalCount,
      nodes,
      pageInfo: {
        hasNextPage: rows.length > first,
        endCursor: last ? encodeCursor({ name: last.name, id: last.id }) : null,
      },
    };
  },
};
