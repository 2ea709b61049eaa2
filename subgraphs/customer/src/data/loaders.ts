import DataLoader from 'dataloader';
import type { AnyDb } from '@c2c/platform/db';
import { findChildrenByParentIds, findCustomersByIds, type CustomerRow } from './customer.repository.ts';

/** Per-request loaders: one SQL query per entity type per request, whatever the list size. */
export function createCustomerLoaders(db: AnyDb) {
  return {
    customerById: new DataLoader<string, CustomerRow | null>(async (ids) => {
      const rows = await findCustomersByIds(db, ids);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    childrenByParentId: new DataLoader<string, CustomerRow[]>(async (ids) => {
      const rows = await findChildrenByParentIds(db, ids);
      return ids.map((id) => rows.filter((row) => row.parent_id === id));
    }),
  };
}

export type CustomerLoaders = ReturnType<typeof createCustomerLoaders>;
