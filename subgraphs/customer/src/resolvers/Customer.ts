import { money } from '@c2c/platform/core';
import type { CustomerRow } from '../data/customer.repository.ts';
import type { CustomerContext } from '../context.ts';

export const Customer = {
  __resolveReference: (ref: { id: string }, ctx: CustomerContext) => ctx.loadCustomer(ref.id),
  businessUnit: (row: CustomerRow) => row.business_unit,
  parent: (row: CustomerRow, _: unknown, ctx: CustomerContext) =>
    row.parent_id ? ctx.loadCustomer(row.parent_id) : null,
  children: (row: CustomerRow, _: unknown, ctx: CustomerContext) =>
    ctx.loaders.childrenByParentId.load(row.id),
  contractValue: (row: CustomerRow) =>
    row.contract_currency === null || row.contract_value_minor === null
      ? null
      : money(row.contract_value_minor, row.contract_currency),
  createdAt: (row: CustomerRow) => row.created_at,
  updatedAt: (row: CustomerRow) => row.updated_at,
};
