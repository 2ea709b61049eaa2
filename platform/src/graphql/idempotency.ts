import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { AnyDb, AnyTransaction } from '../db/db.ts';
import { holdingInserts } from '../db/held-inserts.ts';
import { pendingAudit } from './audit.ts';
import { noteStorageWrite, retryOnConnectionLoss } from '../core/connection-loss.ts';
import { DomainError } from '../core/errors.ts';
import { faultPoint } from '../core/faults.ts';

const KEY = /^[\x20-\x7e]{1,255}$/;

function keyInUse(): DomainError {
  return new DomainError(
    'IDEMPOTENCY_KEY_IN_USE',
    'a request with this idempotencyKey is still running; retry later',
    'idempotencyKey',
  );
}

/** Validates an idempotency key: 1–255 printable ASCII characters. */
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

export interface IdempotentOptions {
  /**
   * Hold back the work's inserts that return nothing, and send them with the audit row and the
   * idempotency record as one statement before the commit (db/held-inserts.ts). Only for work that
   * reads no insert's row count and catches no insert's error.
   */
  holdInserts?: boolean;
}

export interface IdempotentResult<T> {
  value: T;
  replayed: boolean;
}

/**
 * `runIdempotentOnce`, again on a new connection when the database connection was lost: the lost
 * transaction rolled back (or, lost during its commit, committed — then the retry replays it). The
 * current request's audit row (audit.ts) is written in the same transaction as the work.
 */
export async function runIdempotent<T>(
  db: AnyDb,
  schema: string,
  request: IdempotentRequest,
  work: (trx: AnyTransaction) => Promise<T>,
  options: IdempotentOptions = {},
): Promise<IdempotentResult<T>> {
  // The request's audit row commits with the change or not at all (a replay changes nothing: the
  // audit plugin records it after the answer).
  const audit = pendingAudit(schema);
  const audited = audit
    ? async (trx: AnyTransaction) => {
        const value = await work(trx);
        await audit.append(trx, value);
        return value;
      }
    : work;
  const result = await retryOnConnectionLoss(() => runIdempotentOnce(db, schema, request, audited, options));
  if (!result.replayed) {
    audit?.committed();
    noteStorageWrite();
  }
  return result;
}

/**
 * Runs `work` once per (scope, key), in one transaction that starts by taking a transaction-level
 * advisory lock on the key: a concurrent duplicate finds it held and gets IDEMPOTENCY_KEY_IN_USE at
 * once, and when the holder dies (a crashed replica, a killed connection) PostgreSQL releases the
 * lock with its transaction, so a retry takes the key over immediately instead of waiting for a
 * timeout. Under the lock: a repeat with the same input returns the stored result; with another
 * input, IDEMPOTENCY_KEY_REUSED. Otherwise `work` runs and its JSON result is stored in the same
 * transaction, so a failure keeps nothing. Lock and lookup are one statement, the result one insert:
 * three statements besides the work, one commit; with `holdInserts`, the insert goes out together
 * with the work's held inserts (one statement for all of them).
 */
async function runIdempotentOnce<T>(
  db: AnyDb,
  schema: string,
  request: IdempotentRequest,
  work: (trx: AnyTransaction) => Promise<T>,
  options: IdempotentOptions,
): Promise<IdempotentResult<T>> {
  const key = validateIdempotencyKey(request.key);
  const hash = requestHash(request.operation, request.input);
  const lockKey = `c2c.idempotency:${schema}:${request.scope}:${key}`;

  return db.transaction().execute(async (outer) => {
    const held = options.holdInserts ? holdingInserts(outer) : null;
    const trx = held?.trx ?? outer;
    const { rows } = await sql<{
      ok: boolean;
      request_hash: string | null;
      state: string | null;
      response: unknown;
    }>`select pg_try_advisory_xact_lock(hashtextextended(${lockKey}, 0)) as ok,
         k.request_hash, k.state, k.response
       from (select 1) as one
       left join ${sql.id(schema, 'idempotency_key')} as k on k.scope = ${request.scope} and k.key = ${key}`.execute(
      trx,
    );
    const found = rows[0];
    if (!found?.ok) throw keyInUse();
    if (found.request_hash !== null) {
      if (found.request_hash !== hash) {
        throw new DomainError(
          'IDEMPOTENCY_KEY_REUSED',
          'this idempotencyKey was already used with a different input; use a new key',
          'idempotencyKey',
        );
      }
      if (found.state === 'done') {
        const stored = typeof found.response === 'string' ? JSON.parse(found.response) : found.response;
        return { value: stored as T, replayed: true };
      }
      // 'running' (left by an earlier version that claimed keys before its work): its holder is
      // gone, since the lock was free. Taken over by the upsert below.
    }
    const value = await work(trx);
    const response = JSON.stringify(value ?? null);
    const record = trx.withSchema(schema).insertInto('idempotency_key').values({
      scope: request.scope,
      key,
      operation: request.operation,
      request_hash: hash,
      state: 'done',
      response,
    });
    try {
      // A plain insert when the lookup found no row: the lookup's snapshot is taken as its statement
      // starts, before the lock is, so a duplicate that committed in between is invisible to it —
      // its row is not, to this insert, which then fails instead of running the work a second time.
      await (
        found.request_hash === null
          ? record
          : record.onConflict((oc) => oc.columns(['scope', 'key']).doUpdateSet({ state: 'done', response }))
      ).execute();
      await held?.flush();
    } catch (error) {
      if ((error as { code?: string; constraint?: string }).constraint === 'idempotency_key_pkey')
        throw keyInUse();
      throw error;
    }
    faultPoint('mutation.before-commit');
    return { value, replayed: false };
  });
}

/** Deletes keys older than `hours` (kept at least 24 hours). */
export async function pruneIdempotencyKeys(db: AnyDb, schema: string, hours = 48): Promise<number> {
  const result = await db
    .withSchema(schema)
    .deleteFrom('idempotency_key')
    .where('created_at', '<', sql<Date>`now() - make_interval(hours => ${hours})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
