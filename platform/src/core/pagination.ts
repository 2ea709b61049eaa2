import { DomainError } from './errors.ts';

export const MAX_PAGE_SIZE = 100;

/** Validates a `first` argument: 1–100 (STYLE/contract), or 1–`max` where a field documents more. */
export function pageSize(
  first: number | null | undefined,
  fallback: number,
  field = 'first',
  max = MAX_PAGE_SIZE,
): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw new DomainError('INVALID_PAGE_SIZE', `${field} must be between 1 and ${max}, got ${size}`, field);
  }
  return size;
}

/** Opaque cursor over a JSON position (keyset values). */
export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodeCursor<T>(
  cursor: string | null | undefined,
  isValid: (value: unknown) => value is T,
  field = 'after',
): T | null {
  if (cursor === null || cursor === undefined) return null;
  try {
    if (cursor.length > 512) throw new Error('too long');
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isValid(value)) return value;
  } catch {
    // fall through
  }
  throw new DomainError('INVALID_CURSOR', 'the cursor is not one this API returned', field);
}

/** A page of a connection as the contract shapes it: nodes, `pageInfo` and `totalCount`. */
export interface Connection<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  /** A number, or a function the field resolver calls only when a client asks for the count. */
  totalCount: number | (() => Promise<number>);
}

/**
 * The page of `rows` read with `limit: first + 1` (the extra row only says there is a next page),
 * its end cursor made from the last node's keyset position.
 */
export function connectionOf<T>(
  rows: readonly T[],
  first: number,
  positionOf: (row: T) => unknown,
  totalCount: number | (() => Promise<number>),
): Connection<T> {
  const nodes = rows.slice(0, first);
  const last = nodes.at(-1);
  return {
    nodes,
    pageInfo: {
      hasNextPage: rows.length > first,
      endCursor: last === undefined ? null : encodeCursor(positionOf(last)),
    },
    totalCount,
  };
}
