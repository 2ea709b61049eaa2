/** A business rule was violated; carries a stable SCREAMING_SNAKE code and the offending input field. */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

/** The shape every mutation payload exposes as `userErrors`. */
export interface UserError {
  code: string;
  field: string | null;
  message: string;
}

export function toUserError(error: DomainError): UserError {
  return { code: error.code, field: error.field, message: error.message };
}

/** Result-as-value for callers that must decide (expected failures as values, exceptions for the unexpected). */
export type Result<T, E = DomainError> = { ok: true; value: T } | { ok: false; error: E };

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
