import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describePostgresConnectError } from '@c2c/platform/db/errors';
import { subgraphsOf } from '@c2c/schema/subgraphs';

/** The subgraphs of rover.yaml, each with its own schema and its own PostgreSQL role. */
export const SUBGRAPH_SCHEMAS: readonly string[] = subgraphsOf().map((s) => s.name);
export type SubgraphSchema = string;

export const roleOf = (schema: SubgraphSchema) => `c2c_${schema}`;

export interface RoleSetupOptions {
  /** Where adminUrl came from, named when it cannot connect (default DATABASE_URL). */
  setting?: string;
  /** A superuser (or CREATEROLE + database owner) connection to the target database. */
  adminUrl: string;
  /** Password per role; generated when absent. */
  passwords?: Partial<Record<SubgraphSchema, string>>;
  /** Most connections one role may hold (all its replicas' pools together). */
  connectionLimit?: number;
  /** The subgraph schemas (default: rover.yaml's). */
  schemas?: readonly string[];
}

export interface RoleSetup {
  /** Per subgraph, the DATABASE_URL its processes use: its own role, the same database. */
  urls: Record<SubgraphSchema, string>;
  passwords: Record<SubgraphSchema, string>;
}

const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * One schema and one role per subgraph: the role logs in, owns its schema (and everything in it),
 * and has no privilege on the other subgraphs' schemas, so a subgraph can read only its own data.
 * Idempotent: run it before every deployment; passwords are set anew.
 */
export async function setupSubgraphRoles(options: RoleSetupOptions): Promise<RoleSetup> {
  const admin = new pg.Client({ connectionString: options.adminUrl });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(describePostgresConnectError(options.adminUrl, error, options.setting), { cause: error });
  }
  const urls = {} as Record<SubgraphSchema, string>;
  const passwords = {} as Record<SubgraphSchema, string>;
  try {
    const database = (await admin.query<{ db: string }>('select current_database() as db')).rows[0]
      ?.db as string;
    const schemas = options.schemas ?? SUBGRAPH_SCHEMAS;
    for (const schema of schemas) {
      const role = roleOf(schema);
      const password = options.passwords?.[schema] ?? randomBytes(24).toString('base64url');
      passwords[schema] = password;
      await admin.query('begin');
      try {
        // Serialize concurrent setups (two deploy jobs): role and schema creation are not idempotent under races.
        await admin.query('select pg_advisory_xact_lock(hashtext($1))', [`c2c.roles.${schema}`]);
        const exists = await admin.query('select 1 from pg_roles where rolname = $1', [role]);
        if (exists.rowCount === 0) await admin.query(`create role ${role} login`);
        await admin.query(
          `alter role ${role} with login nosuperuser nocreatedb nocreaterole password ${quoteLiteral(password)} connection limit ${options.connectionLimit ?? 40}`,
        );
        await admin.query(`grant connect on database "${database.replaceAll('"', '""')}" to ${role}`);
        await admin.query(`create schema if not exists ${schema} authorization ${role}`);
        await admin.query(`alter schema ${schema} owner to ${role}`);
        // Tables created earlier by another role (an embedded-shape database moved to this shape).
        const owned = await admin.query<{ kind: string; name: string }>(
          `select case c.relkind when 'S' then 'sequence' when 'v' then 'view' else 'table' end as kind, c.relname as name
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = $1 and c.relkind in ('r', 'p', 'S', 'v') and pg_get_userbyid(c.relowner) <> $2`,
          [schema, role],
        );
        for (const row of owned.rows) {
          await admin.query(
            `alter ${row.kind} ${schema}."${row.name.replaceAll('"', '""')}" owner to ${role}`,
          );
        }
        // No one else may use the schema; the role may not use the others'.
        await admin.query(`revoke all on schema ${schema} from public`);
        const others = await admin.query<{ name: string }>(
          'select nspname as name from pg_namespace where nspname = any($1) and nspname <> $2',
          [[...schemas], schema],
        );
        for (const other of others.rows) await admin.query(`revoke all on schema ${other.name} from ${role}`);
        await admin.query('commit');
      } catch (error) {
        await admin.query('rollback');
        throw error;
      }
      const url = new URL(options.adminUrl);
      url.username = role;
      url.password = password;
      urls[schema] = url.toString();
    }
    // The public schema is nobody's workspace.
    await admin.query('revoke create on schema public from public');
  } finally {
    await admin.end();
  }
  return { urls, passwords };
}
