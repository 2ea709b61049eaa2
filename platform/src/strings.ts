import { DomainError } from './errors.ts';

/**
 * Validates free text: trimmed, non-empty unless optional, no control characters (NUL included),
 * at most `max` characters.
 */
export function cleanText(
  value: string | null | undefined,
  field: string,
  max: number,
  optional: true,
): string | null;
export function cleanText(
  value: string | null | undefined,
  field: string,
  max: number,
  optional?: false,
): string;
export function cleanText(
  value: string | null | undefined,
  field: string,
  max: number,
  optional = false,
): string | null {
  if (value === null || value === undefined) {
    if (optional) return null;
    throw new DomainError('REQUIRED', `${field} is required`, field);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new DomainError('INVALID_TEXT', `${field} must not contain control characters`, field);
  }
  const text = value.trim();
  if (text.length === 0) {
    if (optional) return null;
    throw new DomainError('REQUIRED', `${field} must not be empty`, field);
  }
  if (text.length > max) {
    throw new DomainError('TOO_LONG', `${field} must be at most ${max} characters`, field);
  }
  return text;
}
