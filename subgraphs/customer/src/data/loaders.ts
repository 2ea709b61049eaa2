import type { AnyDb } from '@c2c/platform/db';
import { byKeyLoader, groupedLoader } from '@c2c/platform/graphql';
import { findChildrenByParentIds, findCustomersByIds } from './customer.repository.ts';

/** Per-request loaders: one SQL query per entity type per request, whatever the list size. */
export function createCustomerLoaders(db: AnyDb) {
  return {
    customerById: byKeyLoader(
      (ids: readonly string[]) => findCustomersByIds(db, ids),
      (row) => row.id,
    ),
    childrenByParentId: groupedLoader(
      (ids: readonly string[]) => findChildrenByParentIds(db, ids),
      (row) => row.parent_id as string,
    ),
  };
}

export type CustomerLoaders = ReturnType<typeof createCustomerLoaders>;
