import { connectionOf, decodeCursor, isUuid, pageSize } from '@c2c/platform/core';
import type { QueryResolvers } from '../generated/resolvers.ts';

const isPosition = (value: unknown): value is { name: string; id: string } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { name?: unknown }).name === 'string' &&
  typeof (value as { id?: unknown }).id === 'string';

const isOrderPosition = (value: unknown): value is { id: string } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { id?: unknown }).id === 'string' &&
  isUuid((value as { id: string }).id);

export const Query: QueryResolvers = {
  customer: (_, args, ctx) => ctx.loadCustomer(args.id),
  opportunity: (_, args, ctx) => ctx.loadOpportunity(args.id),
  order: (_, args, ctx) => ctx.loadOrder(args.id),
  contractChange: (_, args, ctx) => ctx.loadContractChange(args.id),
  orders: async (_, args, ctx) => {
    const first = pageSize(args.first, 20);
    const before = decodeCursor(args.after, isOrderPosition);
    const { rows, totalCount } = await ctx.opportunities.orderPage({
      status: args.status ?? null,
      beforeId: before?.id ?? null,
      limit: first + 1,
    });
    const page = connectionOf(rows, first, (row) => ({ id: row.id }), totalCount);
    for (const row of page.nodes) ctx.loaders.orderById.prime(row.id, row);
    return page;
  },
  customers: async (_, args, ctx) => {
    const first = pageSize(args.first, 50);
    const after = decodeCursor(args.after, isPosition);
    const { rows, totalCount } = await ctx.service.customerPage({
      businessUnit: args.businessUnit ?? null,
      after,
      limit: first + 1,
    });
    const page = connectionOf(rows, first, (row) => ({ name: row.name, id: row.id }), totalCount);
    for (const row of page.nodes) ctx.loaders.customerById.prime(row.id, row);
    return page;
  },
};
