import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { AnyDb } from './db.ts';

const PLATFORM_MIGRATIONS = join(import.meta.dirname, '..', '..', 'migrations');
const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;

export interface MigrationReport {
  schema: string;
  applied: string[];
}

/**
 * Applies, in one transaction, the platform's migrations (outbox, inbox, idempotency, dead letters)
 * and then the subgraph's own `migrations/*.sql` into `schema`, each file once. A transaction-level
 * advisory lock makes two replicas starting together take turns.
 */
export async function migrate(db: AnyDb, schema: string, directory: string): Promise<MigrationReport> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const files = [
    ...listSql(PLATFORM_MIGRATIONS).map((file) => ({
      id: `platform/${file}`,
      path: join(PLATFORM_MIGRATIONS, file),
    })),
    ...listSql(directory).map((file) => ({ id: file, path: join(directory, file) })),
  ];
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`c2c.migrate.${schema}`}))`.execute(trx);
    // `create schema if not exists` needs CREATE on the database even when the schema exists; a
    // subgraph's own role (scaled-out shape) owns its schema but may not create others.
    const present = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_namespace where nspname = ${schema}`.execute(trx);
    if (Number(present.rows[0]?.n) === 0) await sql.raw(`create schema ${schema}`).execute(trx);
    await sql
      .raw(
        `create table if not exists ${schema}.schema_migration (id text primary key, applied_at timestamptz not null default now())`,
      )
      .execute(trx);
    const done = new Set(
      (await trx.withSchema(schema).selectFrom('schema_migration').select('id').execute()).map(
        (row) => row.id as string,
      ),
    );
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file.id)) continue;
      await sql.raw(`set local search_path to ${schema}`).execute(trx);
      await sql.raw(readFileSync(file.path, 'utf8')).execute(trx);
      await trx.withSchema(schema).insertInto('schema_migration').values({ id: file.id }).execute();
      applied.push(file.id);
    }
    return { schema, applied };
  });
}

function listSql(directory: string): string[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .sort();
}
