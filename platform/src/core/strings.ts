import { DomainError } from './errors.ts';

/** An unpaired UTF-16 surrogate: not a character; PostgreSQL cannot store it. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** False for text PostgreSQL cannot store and no client sends by accident: NUL or an unpaired surrogate. */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/**
 * Characters that have no business in a name or a code: format characters (bidirectional
 * embeddings, overrides and isolates, zero-width spaces and joiners, the byte-order mark, soft
 * hyphens, tag characters), private-use and unassigned code points, line and paragraph separators,
 * and the Hangul fillers that render as blanks.
 */
const INVISIBLE = /[\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0]/u;

/**
 * Validates free text: no control characters (NUL included) and no lone surrogates, NFC-normalised
 * (so that equal-looking texts are equal), trimmed, non-empty unless optional, at most `max` characters.
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
  if (LONE_SURROGATE.test(value)) {
    throw new DomainError(
      'INVALID_TEXT',
      `${field} must be valid Unicode text (it has a lone surrogate)`,
      field,
    );
  }
  const text = value.normalize('NFC').trim();
  if (text.length === 0) {
    if (optional) return null;
    throw new DomainError('REQUIRED', `${field} must not be empty`, field);
  }
  if (text.length > max) {
    throw new DomainError('TOO_LONG', `${field} must be at most ${max} characters`, field);
  }
  return text;
}

/**
 * Validates a name or a code as `cleanText` does, and also refuses invisible and direction-changing
 * characters (zero-width, bidirectional overrides …): a name must look like what it is.
 */
export function cleanName(
  value: string | null | undefined,
  field: string,
  max: number,
  optional: true,
): string | null;
export function cleanName(
  value: string | null | undefined,
  field: string,
  max: number,
  optional?: false,
): string;
export function cleanName(
  value: string | null | undefined,
  field: string,
  max: number,
  optional = false,
): string | null {
  const text = optional ? cleanText(value, field, max, true) : cleanText(value, field, max);
  if (text !== null && INVISIBLE.test(text)) {
    throw new DomainError(
      'INVALID_TEXT',
      `${field} must not contain invisible or text-direction characters (zero-width, bidirectional overrides)`,
      field,
    );
  }
  return text;
}
