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
