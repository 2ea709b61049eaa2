/** Every id in this supergraph is a UUID; anything else names nothing and is never sent to SQL. */
export { isUuid } from '@c2c/platform/core';

/** The canonical (lower-case) form of a UUID, as PostgreSQL returns it. */
export function normalizeId(value: string): string {
  return value.toLowerCase();
}
