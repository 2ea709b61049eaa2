/** A problem with how the check was called (options, missing files): exit code 2, not a check failure. */
export class UsageError extends Error {
  override name = 'UsageError';
}
