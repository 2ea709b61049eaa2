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

/**
 * SQLSTATEs and system errors that mean the database cannot write now, not that the request is
 * wrong: disk full (53100) and other insufficient resources (class 53), I/O errors (58030), a
 * read-only server or file system (25006, EROFS), no space (ENOSPC). Retrying later can succeed.
 */
const STORAGE_STATES = /^(53[0-9A-Z]{3}|58030|25006)$/;
const STORAGE_TEXT = /No space left on device|ENOSPC|EROFS|read-only file system|EDQUOT|Disk quota exceeded/i;

/** True when `error` (or its cause) says the database's storage is full or not writable. */
export function isStorageUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && (STORAGE_STATES.test(code) || STORAGE_TEXT.test(code))) return true;
    if (typeof message === 'string' && STORAGE_TEXT.test(message)) return true;
    current = cause;
  }
  return false;
}

/** The retriable answer for a write the database's storage refused (full, read-only). */
export function storageUnavailable(): DomainError {
  return new DomainError(
    'SERVICE_UNAVAILABLE',
    'the database cannot store data right now (disk full or read-only); retry later (with the same idempotency key for a mutation)',
  );
}

/** How long a process stays not ready after its storage refused a write, unless a write succeeds. */
export const STORAGE_PAUSE_MS = 15_000;
let storageFailedAt = Number.NEGATIVE_INFINITY;

/** Records a write the storage refused: /readyz answers not ready for a while (see storageReady). */
export function noteStorageFailure(now = Date.now()): void {
  storageFailedAt = now;
}

/** Records a committed write: the storage works again. */
export function noteStorageWrite(): void {
  storageFailedAt = Number.NEGATIVE_INFINITY;
}

/**
 * False for STORAGE_PAUSE_MS after a refused write, unless a write committed since: a load balancer
 * sends the traffic elsewhere meanwhile, and afterwards the process takes traffic again to find out.
 */
export function storageReady(now = Date.now()): boolean {
  return now - storageFailedAt >= STORAGE_PAUSE_MS;
}
