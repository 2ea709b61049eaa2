import { DomainError } from './errors.ts';

/**
 * PostgreSQL SQLSTATEs that mean the session is gone, not that the statement was wrong: class 08
 * (connection exception) and 57P01–57P03 (the server terminated the backend: an administrator's
 * `pg_terminate_backend`, a failover, a restart).
 */
const LOST_STATES = /^(08[0-9A-Z]{3}|57P0[123])$/;
const LOST_TEXT =
  /Connection terminated|connection error and is not queryable|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|timeout exceeded when trying to connect/i;

/** True when `error` (or its cause) is a lost database connection: the work can be retried on a new one. */
export function isConnectionLost(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && (LOST_STATES.test(code) || LOST_TEXT.test(code))) return true;
    if (typeof message === 'string' && LOST_TEXT.test(message)) return true;
    current = cause;
  }
  return false;
}

/** The retriable answer for work that could not finish because the database connection was lost. */
export function databaseUnavailable(): DomainError {
  return new DomainError(
    'SERVICE_UNAVAILABLE',
    'the database connection was lost; retry the request (with the same idempotency key for a mutation)',
  );
}

/**
 * Runs `work` again (up to `attempts` times in all) when it failed because its connection was lost;
 * only for work that is safe to repeat (it runs in one transaction that rolled back, or it is
 * idempotent). Any other failure, and the last connection loss, are thrown.
 */
export async function retryOnConnectionLoss<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isConnectionLost(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
