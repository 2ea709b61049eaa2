import { money } from '@c2c/platform/core';
import type { CustomerResolvers } from '../generated/resolvers.ts';

export const Customer: CustomerResolvers = {
  __resolveReference: (ref, ctx) => ctx.loadCustomer(ref.id),
  businessUnit: (row) => row.business_unit,
  parent: (row, _, ctx) => (row.parent_id ? ctx.loadCustomer(row.parent_id) : null),
  children: (row, _, ctx) => ctx.loaders.childrenByParentId.load(row.id),
  contractValue: (row) =>
    row.contract_currency === null || row.contract_value_minor === null
      ? null
      : money(row.contract_value_minor, row.contract_currency),
  openOpportunities: (row, _, ctx) => ctx.loaders.openOpportunitiesByCustomerId.load(row.id),
  contractChanges: async (row, _, ctx) =>
    (await ctx.loaders.contractChangesByCustomerId.load(row.id)).slice(0, 50),
  createdAt: (row) => row.created_at,
  updatedAt: (row) => row.updated_at,
};
