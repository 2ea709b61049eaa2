import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { describePostgresConnectError } from './connect-errors.ts';
import { Kysely, type Transaction, PostgresDialect, sql, type LogEvent, type PostgresPool } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import { recordQuerySpan } from '../observability/tracing.ts';

// bigint (int8) columns hold minor units and counts below 2^53: read them as numbers.
pg.types.setTypeParser(20, (value) => Number(value));
// Dates stay calendar dates, never shifted through a local-time Date object.
pg.types.setTypeParser(1082, (value) => value);

/** Any Kysely instance; subgraphs narrow it with their own table types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDb = Kysely<any>;
/**
 * A database handle that is inside a transaction. Work that must commit with something else — an
 * outbox row with its state change, a consumer's effect with its inbox row — takes this type, so
 * passing the root pool is a compile error (Kysely's `Transaction.isTransaction` is `true`).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTransaction = Transaction<any>;

export interface Database {
  db: AnyDb;
  kind: 'pglite' | 'postgres';
  /** Observes every executed SQL statement (tests count queries with it); returns an unsubscribe. */
  onQuery(listener: (sql: string) => void): () => void;
  /**
   * PostgreSQL server only: calls `listener` on every `NOTIFY` of `channel` (a lower-case
   * identifier), over one dedicated connection that reconnects after a loss. An accelerator like
   * `Signals`: a notification lost while reconnecting only adds latency (listeners also poll).
   */
  listen?(channel: string, listener: () => void): Promise<() => void>;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** One LISTEN connection per database handle, shared by every channel listened to. */
function notificationListener(url: string, applicationName: string) {
  const channels = new Map<string, Set<() => void>>();
  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  let closed = false;
  const connect = (): Promise<pg.Client> => {
    connecting ??= (async () => {
      const next = new pg.Client({ connectionString: url, application_name: `${applicationName} listen` });
      next.on('notification', (message) => {
        for (const listener of channels.get(message.channel) ?? []) listener();
      });
      next.on('error', () => {
        // Lost: connect again shortly and listen to every channel again.
        if (client === next) client = null;
        connecting = null;
        next.end().catch(() => undefined);
        if (!closed)
          setTimeout(() => {
            if (!closed && channels.size > 0) connect().catch(() => undefined);
          }, 1000).unref();
      });
      await next.connect();
      for (const channel of channels.keys()) await next.query(`listen ${channel}`);
      client = next;
      return next;
    })();
    connecting.catch(() => {
      connecting = null;
    });
    return connecting;
  };
  return {
    listen: async (channel: string, listener: () => void) => {
      if (!CHANNEL.test(channel)) throw new Error(`invalid notification channel ${channel}`);
      let listeners = channels.get(channel);
      const fresh = !listeners;
      if (!listeners) channels.set(channel, (listeners = new Set()));
      listeners.add(listener);
      const current = client ?? (await connect());
      if (fresh && current === client) await current.query(`listen ${channel}`);
      return () => {
        listeners.delete(listener);
      };
    },
    close: async () => {
      closed = true;
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
    },
  };
}

function queryListeners() {
  const listeners = new Set<(sql: string) => void>();
  return {
    log: (event: LogEvent) => {
      recordQuerySpan(event);
      if (event.level === 'query') for (const listener of listeners) listener(event.query.sql);
    },
    onQuery: (listener: (sql: string) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;
const MAX_PREPARED = 2000;
const statementNames = new Map<string, string>();

/**
 * The name under which `pg` prepares a statement: once per connection, PostgreSQL parses and plans
 * it the first time only, and later executions send just the parameters. Only data statements (DDL
 * is not prepared), and at most MAX_PREPARED distinct texts per process (lists of `in (…)`
 * parameters make one text per length); beyond that, statements run unnamed as before.
 */
function statementName(text: string): string | undefined {
  const known = statementNames.get(text);
  if (known !== undefined || statementNames.size >= MAX_PREPARED || !PREPARABLE.test(text)) return known;
  const name = `c2c_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
  statementNames.set(text, name);
  return name;
}

const lostConnections = new WeakMap<pg.PoolClient | pg.Client, Error>();
const watched = new WeakSet<pg.PoolClient | pg.Client>();

/**
 * Gives a client a permanent 'error' listener. The pool listens only while a client is idle: a
 * connection the server terminates (57P01 — a failover, a killed backend) while the client is
 * checked out would otherwise raise an 'error' event nobody handles, and the process would die.
 * The statement in flight, if any, still fails with the error; release() then drops the client.
 */
function watch(client: pg.PoolClient | pg.Client): void {
  if (watched.has(client)) return;
  watched.add(client);
  client.on('error', (error: Error) => lostConnections.set(client, error));
}

/** A pool whose clients run Kysely's statements as named (prepared) statements. */
function preparing(pool: pg.Pool): PostgresPool {
  return {
    connect: async () => {
      const client = await pool.connect();
      watch(client);
      return {
        query: ((text: unknown, values?: readonly unknown[]) =>
          typeof text === 'string'
            ? client.query({ name: statementName(text), text, values: values as unknown[] })
            : client.query(text as never)) as never,
        // A client whose connection broke is destroyed by the pool, not reused.
        release: () => client.release(lostConnections.get(client)),
      };
    },
    end: () => pool.end(),
  };
}

export type DatabaseOptions =
  | { kind: 'postgres'; url: string; poolSize?: number; applicationName?: string }
  | { kind: 'pglite'; dataDir: string | null };

/** PGlite in `dataDir/pgdata` (or memory); an unreadable or corrupt directory fails with a message that names it. */
async function openPGlite(dataDir: string | null): Promise<PGlite> {
  if (!dataDir) {
    const pglite = new PGlite();
    await pglite.waitReady;
    return pglite;
  }
  const path = `${dataDir}/pgdata`;
  try {
    accessSync(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
    if (existsSync(path)) accessSync(path, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new Error(
      `the data directory ${path} is not readable and writable by this process (${(error as NodeJS.ErrnoException).code}): fix its owner or permissions, or set DATA_DIR to a directory this process owns`,
      { cause: error },
    );
  }
  try {
    const pglite = new PGlite(path);
    await pglite.waitReady;
    return pglite;
  } catch (error) {
    throw new Error(
      `cannot open the database in ${path} (${error instanceof Error ? error.message : String(error)}): it may be corrupt or written by an incompatible version; restore the directory from a backup, or move it away to start with an empty database`,
      { cause: error },
    );
  }
}

/** Opens PostgreSQL (a server through `pg`) or PGlite (embedded, in a data directory or memory). */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      application_name: options.applicationName ?? 'c2c',
    });
    pool.on('error', () => {
      // An idle client lost its connection; the pool replaces it on the next checkout.
    });
    // Watched from the moment the pool hands a new client out, synchronously: the server's
    // termination message can arrive in the same TCP read as the end of the handshake, before the
    // code awaiting pool.connect() runs.
    pool.on('connect', watch);
    const listeners = queryListeners();
    const db = new Kysely({ dialect: new PostgresDialect({ pool: preparing(pool) }), log: listeners.log });
    try {
      await sql`select 1`.execute(db);
    } catch (error) {
      await db.destroy().catch(() => undefined);
      throw new Error(describePostgresConnectError(options.url, error), { cause: error });
    }
    const notifications = notificationListener(options.url, options.applicationName ?? 'c2c');
    return {
      db,
      kind: 'postgres',
      onQuery: listeners.onQuery,
      listen: notifications.listen,
      close: async () => {
        await notifications.close();
        await db.destroy();
      },
    };
  }
  const unlock = options.dataDir ? await lockDataDir(options.dataDir) : () => {};
  try {
    const pglite = await openPGlite(options.dataDir);
    const listeners = queryListeners();
    const db = new Kysely({ dialect: new PGliteDialect(pglite), log: listeners.log });
    return {
      db,
      kind: 'pglite',
      onQuery: listeners.onQuery,
      close: async () => {
        await db.destroy();
        await pglite.close();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}
