import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/db.ts';
import { holdingInserts } from '../src/db/held-inserts.ts';
import { migrate } from '../src/db/migrations.ts';
import { runIdempotent } from '../src/graphql/idempotency.ts';
import { openTestDatabase } from '../src/testing/harness.ts';

describe('held inserts: bookkeeping rows sent as one statement', () => {
  let database: Database;

  /** Every statement `work` sends, transaction control included. */
  async function sent(work: () => Promise<unknown>): Promise<string[]> {
    const statements: string[] = [];
    const stop = database.onQuery((text) => statements.push(text));
    try {
      await work();
    } finally {
      stop();
    }
    return statements;
  }

  beforeAll(async () => {
    database = await openTestDatabase();
    await migrate(database.db, 'held', mkdtempSync(join(tmpdir(), 'c2c-held-')));
    await sql`create table held.parent (id text primary key, seq bigserial not null, "note$1" text)`.execute(
      database.db,
    );
    await sql`create table held.child (id text primary key, parent_id text not null references held.parent (id), seq bigserial not null)`.execute(
      database.db,
    );
  });
  afterAll(() => database.close());

  it('sends the held inserts as one statement before the next other statement; the children may precede their parent', async () => {
    let counted = -1;
    const statements = await sent(() =>
      database.db.transaction().execute(async (outer) => {
        const { trx } = holdingInserts(outer);
        const db = trx.withSchema('held');
        // The child first: its foreign key is checked at the end of the combined statement.
        await db.insertInto('child').values({ id: 'c1', parent_id: 'p1' }).execute();
        await db.insertInto('parent').values({ id: 'p1', note$1: "it's $2, not a parameter" }).execute();
        const row = await db
          .selectFrom('child')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        counted = Number(row.n);
      }),
    );
    expect(counted).toBe(1);
    expect(statements).toHaveLength(4);
    expect(statements[1]).toMatch(/^with c2c_held_1 as \(insert into "held"\."child"/);
    expect(statements[2]).toMatch(/^select count/);
    const parent = await database.db.withSchema('held').selectFrom('parent').selectAll().execute();
    expect(parent).toEqual([{ id: 'p1', seq: expect.any(Number), note$1: "it's $2, not a parameter" }]);
  });

  it('joins rows of one table into one multi-row insert, in the order they were written', async () => {
    const statements = await sent(() =>
      database.db.transaction().execute(async (outer) => {
        const held = holdingInserts(outer);
        const db = held.trx.withSchema('held');
        await db.insertInto('parent').values({ id: 'p2', note$1: "'$1' stays" }).execute();
        await db.insertInto('child').values({ id: 'c2', parent_id: 'p2' }).execute();
        // More rows of `parent` and `child` with the same columns: they join the rows held.
        await db.insertInto('parent').values({ id: 'p3', note$1: 'three' }).execute();
        await db
          .insertInto('child')
          .values([
            { id: 'c3', parent_id: 'p3' },
            { id: 'c3b', parent_id: 'p2' },
          ])
          .execute();
        await db.insertInto('parent').values({ id: 'p3b', note$1: null }).execute();
        await held.flush();
      }),
    );
    const sentRows = statements.filter((s) => !/^(begin|commit)$/i.test(s));
    expect(sentRows).toHaveLength(1);
    expect(sentRows[0]).toMatch(/values \(\$1, \$2\), \(\$3, \$4\), \(\$5, \$6\)\)/);
    const parents = await database.db
      .withSchema('held')
      .selectFrom('parent')
      .select(['id', 'note$1'])
      .where('id', 'in', ['p2', 'p3', 'p3b'])
      .orderBy('seq')
      .execute();
    expect(parents).toEqual([
      { id: 'p2', note$1: "'$1' stays" },
      { id: 'p3', note$1: 'three' },
      { id: 'p3b', note$1: null },
    ]);
    const children = await database.db
      .withSchema('held')
      .selectFrom('child')
      .select('id')
      .where('id', 'in', ['c2', 'c3', 'c3b'])
      .orderBy('seq')
      .execute();
    expect(children.map((c) => c.id)).toEqual(['c2', 'c3', 'c3b']);
  });

  it('keeps rows of one table in order when their columns differ: the earlier are sent first', async () => {
    const statements = await sent(() =>
      database.db.transaction().execute(async (outer) => {
        const held = holdingInserts(outer);
        const db = held.trx.withSchema('held');
        await db.insertInto('parent').values({ id: 'p6' }).execute();
        await db.insertInto('child').values({ id: 'c6', parent_id: 'p6' }).execute();
        // A row of `parent` with other columns: what is held is sent before it is held.
        await db.insertInto('parent').values({ id: 'p7', note$1: 'seven' }).execute();
        await db.insertInto('child').values({ id: 'c7', parent_id: 'p7' }).execute();
        await held.flush();
      }),
    );
    expect(statements.filter((s) => !/^(begin|commit)$/i.test(s))).toHaveLength(2);
    const rows = await database.db
      .withSchema('held')
      .selectFrom('parent')
      .select(['id', 'seq'])
      .where('id', 'in', ['p6', 'p7'])
      .orderBy('seq')
      .execute();
    expect(rows.map((r) => r.id)).toEqual(['p6', 'p7']);
  });

  it('an insert that fails at the flush fails the transaction and keeps nothing', async () => {
    await expect(
      database.db.transaction().execute(async (outer) => {
        const held = holdingInserts(outer);
        const db = held.trx.withSchema('held');
        await db.insertInto('parent').values({ id: 'p4' }).execute();
        await db.insertInto('child').values({ id: 'c4', parent_id: 'no-such-parent' }).execute();
        await held.flush();
      }),
    ).rejects.toMatchObject({ code: '23503' });
    const found = await database.db
      .withSchema('held')
      .selectFrom('parent')
      .select('id')
      .where('id', '=', 'p4')
      .execute();
    expect(found).toEqual([]);
  });

  it("runIdempotent with holdInserts: the work's rows and the idempotency record go out as one statement; a repeat replays", async () => {
    const request = { scope: 'alice', key: 'held-1', operation: 'op', input: { a: 1 } };
    const work = async (trx: Parameters<Parameters<typeof runIdempotent>[3]>[0]) => {
      await trx.withSchema('held').insertInto('parent').values({ id: 'p5' }).execute();
      await trx.withSchema('held').insertInto('child').values({ id: 'c5', parent_id: 'p5' }).execute();
      return { done: true };
    };
    let first: unknown;
    const statements = await sent(async () => {
      first = await runIdempotent(database.db, 'held', request, work, { holdInserts: true });
    });
    expect(first).toEqual({ value: { done: true }, replayed: false });
    // BEGIN, the key's lock and lookup, the three inserts together, COMMIT.
    expect(statements).toHaveLength(4);
    expect(statements[2]).toMatch(/"idempotency_key"/);
    expect(await runIdempotent(database.db, 'held', request, work, { holdInserts: true })).toEqual({
      value: { done: true },
      replayed: true,
    });
  });
});
