import DataLoader from 'dataloader';

/**
 * A per-request loader of one row per key: `fetch` reads all the keys a request asked for in one
 * query; keys without a row load as null.
 */
export function byKeyLoader<K, R>(
  fetch: (keys: readonly K[]) => Promise<readonly R[]>,
  keyOf: (row: R) => K,
): DataLoader<K, R | null> {
  return new DataLoader<K, R | null>(async (keys) => {
    const byKey = new Map((await fetch(keys)).map((row) => [keyOf(row), row]));
    return keys.map((key) => byKey.get(key) ?? null);
  });
}

/** A per-request loader of the rows of each key (a one-to-many relation), in one query per request. */
export function groupedLoader<K, R>(
  fetch: (keys: readonly K[]) => Promise<readonly R[]>,
  keyOf: (row: R) => K,
): DataLoader<K, R[]> {
  return new DataLoader<K, R[]>(async (keys) => {
    const groups = groupBy(await fetch(keys), keyOf);
    return keys.map((key) => groups.get(key) ?? []);
  });
}

/** Rows grouped by key, each group in the rows' order. */
export function groupBy<K, R>(rows: readonly R[], keyOf: (row: R) => K): Map<K, R[]> {
  const groups = new Map<K, R[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}

/**
 * The row a non-null field points at: a reference that finds nothing is a broken invariant of the
 * system's own data (not a client error), reported as such instead of as a null for a non-null field.
 */
export async function present<T>(row: Promise<T | null> | T | null, what: string): Promise<T> {
  const value = await row;
  if (value === null || value === undefined) throw new Error(`internal: ${what} is missing`);
  return value;
}
