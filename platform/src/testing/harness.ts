import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DatabaseTransport } from '../events/database-transport.ts';
import { openDatabase, type Database } from '../db/db.ts';
import { silentLogger } from '../core/logger.ts';
import type { Principal } from '../auth/authorization.ts';
import { ROLE_SCOPES } from '../auth/dev-issuer.ts';
import { signRequest } from '../auth/request-signing.ts';
import {
  startSubgraph,
  type Clock,
  type RunningSubgraph,
  type StartSubgraphOptions,
} from '../subgraph/runtime.ts';
import { Signals } from '../core/signals.ts';
import type { RetryPolicy } from '../events/transport.ts';

/**
 * A fresh, empty database for one test file: PGlite in memory, or — when DATABASE_URL is set — a
 * new database created on that PostgreSQL server and dropped on close, so files can run in parallel.
 */
export async function openTestDatabase(): Promise<Database> {
  const url = process.env.DATABASE_URL;
  if (!url) return openDatabase({ kind: 'pglite', dataDir: null });
  const name = `c2c_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  const database = await openDatabase({ kind: 'postgres', url: target.toString(), poolSize: 5 });
  return {
    ...database,
    close: async () => {
      await database.close();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      try {
        await cleanup.query(`drop database if exists ${name} with (force)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

/** A clock pinned to a date, movable by tests. */
export function fixedClock(iso: string): Clock & { set(iso: string): void } {
  let now = new Date(iso);
  return { now: () => now, set: (next) => (now = new Date(next)) };
}

export interface TestSubgraphOptions {
  database?: Database;
  clock?: Clock;
  retry?: RetryPolicy;
  /** The environment the subgraphs parse their own settings from (an adapter's, …). */
  env?: Record<string, string | undefined>;
  /**
   * Run the subgraphs' outbox relays and consumers (default true). Off, nothing runs in the
   * background: a test can count the statements of one request alone.
   */
  events?: boolean;
}

export interface TestSubgraphs {
  database: Database;
  transport: DatabaseTransport;
  signals: Signals;
  running: RunningSubgraph[];
  url(name: string): string;
  close(): Promise<void>;
}

/** Starts subgraphs on port 0 over one test database with the embedded event backbone. */
export async function startTestSubgraphs(
  builds: StartSubgraphOptions['build'][],
  options: TestSubgraphOptions = {},
): Promise<TestSubgraphs> {
  const database = options.database ?? (await openTestDatabase());
  const signals = new Signals();
  const log = silentLogger();
  const transport = new DatabaseTransport({
    db: database.db,
    signals,
    log,
    pollMs: 200,
    ...(options.retry ? { retry: options.retry } : {}),
  });
  const running: RunningSubgraph[] = [];
  for (const build of builds) {
    running.push(
      await startSubgraph({
        db: database.db,
        transport,
        signals,
        log,
        port: 0,
        build,
        secret: TEST_SUBGRAPH_SECRET,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.env ? { env: options.env } : {}),
        ...(options.events === false ? { events: false } : {}),
      }),
    );
  }
  return {
    database,
    transport,
    signals,
    running,
    url: (name) => {
      const found = running.find((r) => r.name === name);
      if (!found) throw new Error(`no running subgraph ${name}`);
      return found.url;
    },
    close: async () => {
      for (const r of running) await r.stop();
      await transport.close();
      if (!options.database) await database.close();
    },
  };
}

/** The request-signing secret of subgraphs started by `startTestSubgraphs`. */
export const TEST_SUBGRAPH_SECRET = 'test-subgraph-secret-0123456789abcdef';

/** A principal holding every scope, for tests that are not about authorization. */
export const TEST_ADMIN: Principal = { sub: 'test', role: 'admin', scopes: [...ROLE_SCOPES.admin] };

export interface GraphQLTestOptions {
  /**
   * Signs the request as the gateway would for this principal (default: TEST_ADMIN, with `sub`
   * taken from an `x-c2c-caller` header when given); null sends it unsigned.
   */
  principal?: Principal | null;
  secret?: string;
}

const bearerTokens = new Map<string, string>();

/**
 * Makes `graphql(url, …)` send `Authorization: Bearer <token>` to this URL (a gateway) unless the
 * call passes its own authorization header. Tests that are not about authentication set it once.
 */
export function useToken(url: string, token: string): void {
  bearerTokens.set(url, token);
}

/**
 * POSTs a GraphQL request and returns the parsed JSON body. Requests are signed with the test
 * subgraphs' secret, so the same helper talks to a subgraph directly or to a gateway (which ignores
 * client-sent signature headers).
 */
export async function graphql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  options: GraphQLTestOptions = {},
): Promise<{
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}> {
  const { 'x-c2c-caller': caller, ...rest } = headers;
  const body = JSON.stringify({ query, variables });
  const principal =
    options.principal === undefined ? { ...TEST_ADMIN, sub: caller ?? TEST_ADMIN.sub } : options.principal;
  const signature = principal
    ? signRequest(options.secret ?? TEST_SUBGRAPH_SECRET, { method: 'POST', body, identity: principal })
    : {};
  const bearer = bearerTokens.get(url);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...signature,
      ...rest,
    },
    body,
  });
  const text = await response.text();
  try {
    return JSON.parse(text) as never;
  } catch {
    throw new Error(`HTTP ${response.status} from ${url} is not JSON: ${text.slice(0, 200)}`);
  }
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let counter = 0;
/** A value unique within the test run, for names and idempotency keys. */
export function unique(prefix = 't'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

const counting = new AsyncLocalStorage<symbol>();

/**
 * The statements `work` sends through `database`, transaction control (BEGIN, COMMIT, …) left
 * out: for tests that hold a use case or a consumer to a number of statements. Only `work`'s own
 * are counted (by async context), not those of a relay or consumer the same stack runs meanwhile.
 */
export async function statementsSent(
  database: Pick<Database, 'onQuery'>,
  work: () => Promise<unknown>,
): Promise<string[]> {
  const mine = Symbol('statements');
  const sent: string[] = [];
  const stop = database.onQuery((text) => {
    if (counting.getStore() === mine) sent.push(text);
  });
  try {
    await counting.run(mine, work);
  } finally {
    stop();
  }
  return sent.filter((text) => !/^\s*(begin|commit|rollback|savepoint|release)\b/i.test(text));
}
