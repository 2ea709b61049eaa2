const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every id in this supergraph is a UUID; anything else names nothing and is never sent to SQL. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** The canonical (lower-case) form of a UUID, as PostgreSQL returns it. */
export function normalizeId(value: string): string {
  return value.toLowerCase();
}
