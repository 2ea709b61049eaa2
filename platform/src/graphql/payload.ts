import { DomainError, toUserError, type UserError } from '../core/errors.ts';

/**
 * A mutation's payload: runs the use case, shapes its result with `onSuccess` and adds empty
 * `userErrors`; a DomainError becomes one `userErrors` entry next to the payload's `empty` fields
 * (the contract's nulls, zeros and empty lists). Any other error is the server's and is thrown.
 */
export async function mutationPayload<T, P extends object, E extends object>(
  empty: E,
  work: () => Promise<T>,
  onSuccess: (value: T) => Promise<P> | P,
): Promise<(P | E) & { userErrors: UserError[] }> {
  let value: T;
  try {
    value = await work();
  } catch (error) {
    if (error instanceof DomainError) return { ...empty, userErrors: [toUserError(error)] };
    throw error;
  }
  return { ...(await onSuccess(value)), userErrors: [] };
}
