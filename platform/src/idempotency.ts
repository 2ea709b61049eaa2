import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { AnyDb } from './db.ts';
import { DomainError } from './errors.ts';
import { faultPoint } from './faults.ts';

const KEY = /^[\x20-\x7e]{1,255}$/;

/** Validates an idempotency key: 1–255 printable ASCII characters (DOMAIN.md). */
export function validateIdempotencyKey(key: unknown): string {
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new DomainError(
      'INVALID_IDEMPOTENCY_KEY',
      'idempotencyKey must be 1 to 255 printable ASCII characters',
      'idempotencyKey',
    );
  }
  return key;
}

/** JSON with sorted object keys, so that equal inputs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** Fingerprint of a request: the operation and its canonical input. */
export function requestHash(operation: string, input: unknown): string {
  return createHash('sha256')
    .update(`${operation}\n${canonicalJson(input)}`)
    .digest('hex');
}

export interface IdempotentRequest {
  scope: string;
  key: string;
  operation: string;
  input: unknown;
}

export interface IdempotentResult<T> {
  value: T;
  replayed: boolean;
}

/**
 * Runs `work` once per (scope, key). The caller holds a session-level advisory lock on the key for
 * the whole request, on one connection: a concurrent duplicate finds it held and gets
 * IDEMPOTENCY_KEY_IN_USE at once, and when the holder dies (a crashed replica, a killed connection)
 * PostgreSQL releases the lock with the session, so a retry takes the key over immediately instead
 * of waiting for a timeout. Under the lock: a repeat with the same input returns the stored result;
 * with another input, IDEMPOTENCY_KEY_REUSED. `work` runs in a transaction that also stores its JSON
 * result; if it fails, the claim is released and nothing is kept.
 */
export async function runIdempotent<T>(
  db: AnyDb,
  schema: string,
  request: IdempotentRequest,
  work: (trx: AnyDb) => Promise<T>,
): Promise<IdempotentResult<T>> {
  const key = validateIdempotencyKey(request.key);
  const hash = requestHash(request.operation, request.input);
  const lockKey = `c2c.idempotency:${schema}:${request.scope}:${key}`;

  return db.connection().execute(async (conn) => {
    const table = () => conn.withSchema(schema);
    const locked = await sql<{
      ok: boolean;
    }>`select pg_try_advisory_lock(hashtextextended(${lockKey}, 0)) as ok`.execute(conn);
    if (!locked.rows[0]?.ok) {
      throw new DomainError(
        'IDEMPOTENCY_KEY_IN_USE',
        'a request with this idempotencyKey is still running; retry later',
        'idempotencyKey',
      );
    }
    try {
      const existing = await table()
        .selectFrom('idempotency_key')
        .select(['request_hash', 'state', 'response'])
        .where('scope', '=', request.scope)
        .where('key', '=', key)
        .executeTakeFirst();
      if (existing) {
        if (existing.request_hash !== hash) {
          throw new DomainError(
            'IDEMPOTENCY_KEY_REUSED',
            'this idempotencyKey was already used with a different input; use a new key',
            'idempotencyKey',
          );
        }
        if (existing.state === 'done') {
          const stored =
            typeof existing.response === 'string' ? JSON.parse(existing.response) : existing.response;
          return { value: stored as T, replayed: true };
        }
        // 'running' with the lock free: its holder died mid-request (its work rolled back). Take over.
      } else {
        await table()
          .insertInto('idempotency_key')
          .values({
            scope: request.scope,
            key,
            operation: request.operation,
            request_hash: hash,
            state: 'running',
          })
          .execute();
      }
      try {
        const value = await conn.transaction().execute(async (trx) => {
          const result = await work(trx);
          await trx
            .withSchema(schema)
            .updateTable('idempotency_key')
            .set({ state: 'done', response: JSON.stringify(result ?? null) })
            .where('scope', '=', request.scope)
            .where('key', '=', key)
            .execute();
          faultPoint('mutation.before-commit');
          return result;
        });
        return { value, replayed: false };
      } catch (error) {
        await table()
          .deleteFrom('idempotency_key')
          .where('scope', '=', request.scope)
          .where('key', '=', key)
          .where('state', '=', 'running')
          .execute()
          .catch(() => undefined);
        throw error;
      }
    } finally {
      await sql`select pg_advisory_unlock(hashtextextended(${lockKey}, 0))`
        .execute(conn)
        .catch(() => undefined);
    }
  });
}

/** Deletes keys older than `hours` (DOMAIN.md keeps them at least 24 hours). */
export async function pruneIdempotencyKeys(db: AnyDb, schema: string, hours = 48): Promise<number> {
  const result = await db
    .withSchema(schema)
    .deleteFrom('idempotency_key')
    .where('created_at', '<', sql<Date>`now() - make_interval(hours => ${hours})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
