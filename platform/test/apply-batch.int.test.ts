import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, z } from '../src/core/index.ts';
import type { Database } from '../src/db/db.ts';
import { migrate } from '../src/db/migrations.ts';
import { applyBatch } from '../src/events/consumer.ts';
import type { CloudEvent } from '../src/events/events.ts';
import { reading, readingMany, type EventEffect } from '../src/events/reading.ts';
import { openTestDatabase } from '../src/testing/harness.ts';

const Note = z.object({ text: z.string() });

/** An event as a producer would send it (the fields applyBatch reads). */
function anEvent(type: string, text: string, id = crypto.randomUUID()): CloudEvent {
  return {
    specversion: '1.0',
    id,
    type,
    source: 'test',
    subject: 'one-subject',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    correlationid: 'corr',
    data: { text },
  } as CloudEvent;
}

describe('applyBatch: runs of events applied many at a time', () => {
  let database: Database;
  /** What each call of an effect was given, in call order. */
  let calls: string[][];

  const note = (trx: Parameters<EventEffect>[0], texts: string[]) =>
    sql`insert into batch.note (text) select unnest(${texts}::text[])`.execute(trx);

  /** Both note types share one effect that applies many at once; `single.noted` applies one at a time. */
  const many = readingMany(Note, async (trx, items) => {
    calls.push(items.map((item) => item.data.text));
    await note(
      trx,
      items.map((item) => item.data.text),
    );
  });
  const handlers: Record<string, EventEffect> = {
    'note.added': many,
    'note.amended': many,
    'single.noted': reading(Note, async (trx, data) => {
      calls.push([`single:${data.text}`]);
      await note(trx, [data.text]);
    }),
  };
  const options = () => ({
    db: database.db,
    schema: 'batch',
    consumer: 'batch.notes',
    handlers,
    log: silentLogger(),
  });
  const notes = async () =>
    (await sql<{ text: string }>`select text from batch.note order by seq`.execute(database.db)).rows.map(
      (row) => row.text,
    );

  beforeAll(async () => {
    database = await openTestDatabase();
    await migrate(database.db, 'batch', mkdtempSync(join(tmpdir(), 'c2c-batch-')));
    await sql`create table batch.note (seq bigserial primary key, text text not null)`.execute(database.db);
  });
  afterAll(() => database.close());

  it('hands each run of consecutive events sharing a many-effect to one call, in order, and skips what the inbox has', async () => {
    calls = [];
    await sql`truncate batch.note`.execute(database.db);
    const seen = anEvent('note.added', 'already applied');
    expect(await applyBatch(options(), [seen], async () => {})).toBe(1);
    calls = [];
    const twice = anEvent('note.added', 'b');
    const events = [
      anEvent('note.added', 'a'),
      twice,
      seen, // a redelivery: in the inbox already
      anEvent('note.amended', 'c'), // another type, the same effect: the same run
      twice, // twice in the batch: applied once
      anEvent('single.noted', 'd'),
      anEvent('note.added', 'e'), // a new run after the other effect
      anEvent('note.added', 'f'),
      anEvent('note.amended', 'g'),
    ];
    expect(await applyBatch(options(), events, async () => {})).toBe(7);
    expect(calls).toEqual([['a', 'b', 'c'], ['single:d'], ['e', 'f', 'g']]);
    expect(await notes()).toEqual(['already applied', 'a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('a run whose effect fails rolls the whole batch back, inbox rows included', async () => {
    calls = [];
    await sql`truncate batch.note`.execute(database.db);
    const good = anEvent('note.added', 'kept?');
    const bad = { ...anEvent('note.added', 'x'), data: { text: 42 } } as unknown as CloudEvent;
    await expect(applyBatch(options(), [good, bad], async () => {})).rejects.toThrow();
    expect(await notes()).toEqual([]);
    // Nothing was recorded as applied: the same events one at a time apply the good one.
    expect(await applyBatch(options(), [good], async () => {})).toBe(1);
    expect(await notes()).toEqual(['kept?']);
  });
});
