import {
  CompiledQuery,
  Transaction,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { AnyTransaction } from './db.ts';

/**
 * A transaction handle that holds back inserts which return nothing and sends them together, as
 * one statement of data-modifying CTEs (`with w1 as (insert …), w2 as (insert …) insert …`): a
 * use case that ends with several bookkeeping rows — its records, the outbox, the audit row, the
 * idempotency record — pays one round trip for them instead of one each.
 *
 * What is held is sent before any other statement of the transaction (so a later read sees it, as
 * if it had been sent at once) and at `flush()`, which the owner calls before committing. Rows of
 * one table (a serial `seq`, the outbox's order) must keep the order they were written in: a
 * plain insert into a table already held with the same columns joins that insert's rows (one
 * multi-row INSERT, whose rows go in in their order: many events' outbox rows or journal lines
 * become one insert); any other insert into a table already held sends what is held first, as
 * two CTEs of one statement run in an order PostgreSQL chooses. Rows of different tables may land
 * in any order within the statement; foreign keys are checked at its end, when all are in.
 *
 * The cost, and why it is opt-in: a held insert answers at once with no rows and no row count, and
 * its failure (a constraint) surfaces at the flush, not at the call. Only work that neither reads
 * an insert's count nor catches its error may run on this handle.
 */
export function holdingInserts(trx: AnyTransaction): { trx: AnyTransaction; flush(): Promise<void> } {
  const executor = trx.getExecutor();
  const held: CompiledQuery[] = [];

  /** Per table held: where its statement is in `held`, and the text before its rows when more may join. */
  const tables = new Map<string, { index: number; head: string | null }>();
  let connection: DatabaseConnection | null = null;

  const send = async (on: DatabaseConnection): Promise<void> => {
    if (held.length === 0) return;
    const batch = combine(held.splice(0));
    tables.clear();
    await on.executeQuery(batch);
  };

  const holding: DatabaseConnection = {
    executeQuery: async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      const on = connection!;
      const table = holdableTable(query);
      if (table === null) {
        await send(on);
        return on.executeQuery<R>(query);
      }
      const head = rowsHead(query);
      const earlier = tables.get(table);
      if (earlier && head !== null && earlier.head === head) {
        // Rows for a table already held with the same columns: they join its statement, after
        // its rows (one INSERT … VALUES inserts its rows in their order).
        const into = held[earlier.index]!;
        if (into.parameters.length + query.parameters.length <= MAX_PARAMETERS) {
          held[earlier.index] = CompiledQuery.raw(
            `${into.sql}, ${shift(query.sql.slice(head.length), into.parameters.length)}`,
            [...into.parameters, ...query.parameters],
          );
          return { rows: [] };
        }
      }
      if (earlier) await send(on);
      tables.set(table, { index: held.length, head });
      held.push(query);
      return { rows: [] };
    },
    streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => {
      const on = connection!;
      return (async function* () {
        await send(on);
        yield* on.streamQuery<R>(query, chunkSize);
      })();
    },
  };

  const provider = {
    provideConnection: <T>(consumer: (c: DatabaseConnection) => Promise<T>) =>
      executor.provideConnection((underlying) => {
        connection = underlying;
        return consumer(holding);
      }),
  };
  // A Transaction needs its driver and dialect only to start transactions and to introspect,
  // both of which it refuses: every statement goes through the executor given here.
  const unused = {} as Driver & Dialect;
  const wrapped = new Transaction({
    config: { dialect: unused },
    driver: unused,
    dialect: unused,
    executor: executor.withConnectionProvider(provider),
  }) as AnyTransaction;
  return {
    trx: wrapped,
    flush: () => executor.provideConnection((underlying) => send(underlying)),
  };
}

/** The table an insert writes, when it may be held: no RETURNING, no CTE of its own; else null. */
function holdableTable(query: CompiledQuery): string | null {
  const node = query.query;
  if (node.kind !== 'InsertQueryNode' || node.returning || node.with || !node.into) return null;
  const { schema, identifier } = node.into.table;
  return `${schema?.name ?? ''}.${identifier.name}`;
}

/** Far below PostgreSQL's 65,535 bind parameters a statement. */
const MAX_PARAMETERS = 30_000;

/**
 * The text of a plain `insert into t (columns) values (…), …` up to its first row — what two
 * inserts must share to become one — or null for any other shape (ON CONFLICT, a SELECT, …).
 */
function rowsHead(query: CompiledQuery): string | null {
  const node = query.query;
  if (node.kind !== 'InsertQueryNode' || node.onConflict || node.onDuplicateKey || node.ignore) return null;
  if (node.orAction || node.replace || node.explain || node.top || node.output || node.endModifiers?.length)
    return null;
  if (!node.columns || node.values?.kind !== 'ValuesNode') return null;
  const at = query.sql.indexOf(') values (');
  return at < 0 ? null : query.sql.slice(0, at + ') values '.length);
}

/** `sql` with each `$n` placeholder moved `offset` places on (quoted identifiers and literals are left as they are). */
function shift(sql: string, offset: number): string {
  return sql.replace(/("(?:[^"]|"")*"|'(?:[^']|'')*')|\$(\d+)/g, (whole, quoted, n) =>
    quoted !== undefined ? whole : `$${Number(n) + offset}`,
  );
}

/**
 * One statement of several inserts: all but the last as CTEs, each one's `$n` placeholders shifted
 * past the previous ones' parameters.
 */
function combine(queries: CompiledQuery[]): CompiledQuery {
  if (queries.length === 1) return queries[0]!;
  const parameters: unknown[] = [];
  const parts = queries.map((query) => {
    const offset = parameters.length;
    parameters.push(...query.parameters);
    return shift(query.sql, offset);
  });
  const last = parts.pop()!;
  const sql = `with ${parts.map((part, i) => `c2c_held_${i + 1} as (${part})`).join(', ')} ${last}`;
  return CompiledQuery.raw(sql, parameters);
}
