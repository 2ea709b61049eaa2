import { sql } from 'kysely';
import type { AnyTransaction } from '@c2c/platform/db';

/**
 * Runs `work` inside a savepoint of the caller's transaction: when it throws, what it wrote is
 * rolled back and the transaction goes on (the error is rethrown for the caller to decide).
 */
export async function inSavepoint<T>(trx: AnyTransaction, name: string, work: () => Promise<T>): Promise<T> {
  await sql`savepoint ${sql.id(name)}`.execute(trx);
  try {
    const value = await work();
    await sql`release savepoint ${sql.id(name)}`.execute(trx);
    return value;
  } catch (error) {
    await sql`rollback to savepoint ${sql.id(name)}`.execute(trx);
    throw error;
  }
}
