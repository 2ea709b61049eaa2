import { sql } from 'kysely';
import { expect } from 'vitest';
import type { AnyDb } from '@c2c/platform/db';
import { waitFor } from '@c2c/platform/testing';

// The invariants every fault test ends with (docs/faults.md, I1–I4 and I6), read
// straight from every subgraph's schema and the bus: a test may look behind the API, the system may not.

const SCHEMAS = ['customer', 'subscription', 'finance'] as const;

async function rows<T>(db: AnyDb, query: ReturnType<typeof sql<T>>): Promise<T[]> {
  return (await query.execute(db)).rows;
}

async function hasBus(db: AnyDb): Promise<boolean> {
  const [row] = await rows(
    db,
    sql<{ present: boolean }>`select to_regclass('bus.delivery') is not null as present`,
  );
  return row?.present === true;
}

/** What still waits to move: unpublished outbox rows per schema, and pending bus deliveries. */
export async function backlog(db: AnyDb): Promise<{ unpublished: Record<string, number>; pending: number }> {
  const unpublished: Record<string, number> = {};
  for (const schema of SCHEMAS) {
    const [row] = await rows(
      db,
      sql<{
        n: number;
      }>`select count(*)::int as n from ${sql.table(`${schema}.outbox`)} where published_at is null`,
    );
    unpublished[schema] = row?.n ?? 0;
  }
  // On NATS (the scaled-out shape) there is no bus in the database; the broker's pending count is
  // checked by the test through the transport instead.
  if (!(await hasBus(db))) return { unpublished, pending: 0 };
  const [pending] = await rows(
    db,
    sql<{ n: number }>`select count(*)::int as n from bus.delivery where state = 'pending'`,
  );
  return { unpublished, pending: pending?.n ?? 0 };
}

const isDrained = (b: Awaited<ReturnType<typeof backlog>>) =>
  b.pending === 0 && Object.values(b.unpublished).every((n) => n === 0);

/** I6: waits until every outbox is published and every delivery is done or dead (a running stack). */
export async function waitForQuiescence(db: AnyDb, timeoutMs = 30_000): Promise<void> {
  let last: Awaited<ReturnType<typeof backlog>> | null = null;
  try {
    await waitFor(
      async () => {
        last = await backlog(db);
        return isDrained(last);
      },
      timeoutMs,
      'outboxes and deliveries to drain',
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; backlog ${JSON.stringify(last)}`, { cause: error });
  }
}

export interface InvariantOptions {
  /** Amendment ids the client saw succeed (I1): each must exist once with exactly one ledger effect. */
  acknowledged: string[];
  /** Dead letters not yet replayed that the test deliberately left behind (default 0). */
  openDeadLetters?: number;
}

/**
 * Checks, at quiescence, that nothing was lost or applied twice:
 * - every acknowledged amendment exists once, with one `subscription.amended` event, exactly one
 *   invoice or credit note (one `…issued` event), one finance receivable and one journal entry;
 * - every billing document has exactly one receivable and one journal entry, and no receivable or
 *   journal entry exists without its document (no phantom);
 * - ledger totals equal billing totals per currency (count and Σ totals), the AR account balance
 *   equals Σ amount due, and every journal entry balances;
 * - every event's effect was applied once: inbox rows unique per consumer, one reaction event per
 *   (type, cause), one receivable and one journal entry per document;
 * - outboxes drained, no pending deliveries, and only the expected dead letters left.
 */
export async function checkInvariants(db: AnyDb, options: InvariantOptions): Promise<void> {
  // I6: drained.
  expect(await backlog(db), 'nothing waits in an outbox or the bus').toEqual({
    unpublished: { customer: 0, subscription: 0, finance: 0 },
    pending: 0,
  });

  // I1 + exactly one ledger effect per acknowledged amendment.
  for (const id of options.acknowledged) {
    const amendments = await rows(
      db,
      sql<{ invoice_id: string | null; scheduled: boolean }>`
        select invoice_id, scheduled from subscription.amendment where id = ${id}`,
    );
    expect(amendments, `amendment ${id} exists exactly once`).toHaveLength(1);
    const [amendment] = amendments;
    const events = await rows(
      db,
      sql<{ type: string; n: number }>`
        select type, count(*)::int as n from subscription.outbox
        where data->>'amendmentId' = ${id} group by type order by type`,
    );
    const documentEvents = events.filter(
      (e) => e.type === 'invoice.issued' || e.type === 'creditnote.issued',
    );
    expect(
      events.filter((e) => e.type.startsWith('subscription.')),
      `one subscription event for ${id}`,
    ).toEqual([{ type: expect.stringMatching(/^subscription\.(amended|cancelled)$/), n: 1 }]);
    if (amendment?.scheduled) {
      expect(amendment.invoice_id, `scheduled amendment ${id} issues no document`).toBeNull();
      expect(documentEvents).toEqual([]);
      continue;
    }
    expect(amendment?.invoice_id, `amendment ${id} issued a document`).toEqual(expect.any(String));
    expect(documentEvents, `one invoice or credit note event for ${id}`).toHaveLength(1);
    expect(documentEvents[0]?.n).toBe(1);
    const [effect] = await rows(
      db,
      sql<{ documents: number; receivables: number; entries: number }>`
        select
          (select count(*)::int from subscription.invoice where id = ${amendment?.invoice_id}) as documents,
          (select count(*)::int from finance.receivable where invoice_id = ${amendment?.invoice_id}) as receivables,
          (select count(*)::int from finance.journal_entry
             where source_id = ${amendment?.invoice_id} and source_type in ('INVOICE', 'CREDIT_NOTE')) as entries`,
    );
    expect(effect, `amendment ${id}: one document, one receivable, one journal entry`).toEqual({
      documents: 1,
      receivables: 1,
      entries: 1,
    });
  }

  // Every billing document posted exactly once; nothing in the ledger without a document.
  const unposted = await rows(
    db,
    sql<{ id: string; number: string; receivables: number; entries: number }>`
      select i.id, i.number,
        (select count(*)::int from finance.receivable r where r.invoice_id = i.id) as receivables,
        (select count(*)::int from finance.journal_entry j
           where j.source_id = i.id and j.source_type in ('INVOICE', 'CREDIT_NOTE')) as entries
      from subscription.invoice i`,
  );
  expect(
    unposted.filter((d) => d.receivables !== 1 || d.entries !== 1),
    'every document: one receivable, one journal entry',
  ).toEqual([]);
  const phantoms = await rows(
    db,
    sql<{ id: string }>`
      select r.invoice_id::text as id from finance.receivable r
      where not exists (select 1 from subscription.invoice i where i.id = r.invoice_id)
      union all
      select j.source_id::text from finance.journal_entry j
      where j.source_type in ('INVOICE', 'CREDIT_NOTE')
        and not exists (select 1 from subscription.invoice i where i.id = j.source_id)`,
  );
  expect(phantoms, 'no ledger row without a billing document').toEqual([]);
  const mismatchedEntry = await rows(
    db,
    sql<{ invoice_id: string }>`
      select r.invoice_id from finance.receivable r
      where r.posting_status <> 'POSTED' or r.journal_entry_id is null
        or not exists (select 1 from finance.journal_entry j
                       where j.id = r.journal_entry_id and j.source_id = r.invoice_id)`,
  );
  expect(mismatchedEntry, 'every receivable posted and pointing at its own journal entry').toEqual([]);

  // Ledger totals = billing totals, per currency.
  const billing = await rows(
    db,
    sql<{ currency: string; n: number; total: number }>`
      select currency, count(*)::int as n, sum(total_minor)::bigint as total
      from subscription.invoice group by currency order by currency`,
  );
  const ledger = await rows(
    db,
    sql<{ currency: string; n: number; total: number }>`
      select currency, count(*)::int as n, sum(total_minor)::bigint as total
      from finance.receivable group by currency order by currency`,
  );
  expect(ledger.map(numeric), 'Σ receivables = Σ billing documents per currency').toEqual(
    billing.map(numeric),
  );
  const ar = await rows(
    db,
    sql<{ currency: string; total: number }>`
      select currency, sum(case side when 'DEBIT' then amount_minor else -amount_minor end)::bigint as total
      from finance.journal_line where account = 'ACCOUNTS_RECEIVABLE' group by currency order by currency`,
  );
  const due = await rows(
    db,
    sql<{ currency: string; total: number }>`
      select currency, sum(amount_due_minor)::bigint as total
      from finance.receivable group by currency order by currency`,
  );
  const nonZero = (list: { currency: string; total: number }[]) =>
    list.map(numeric).filter((r) => r.total !== 0);
  expect(nonZero(ar), 'AR account balance = Σ amount due per currency').toEqual(nonZero(due));
  const unbalanced = await rows(
    db,
    sql<{ entry_id: string }>`
      select entry_id from finance.journal_line group by entry_id, currency
      having sum(case side when 'DEBIT' then amount_minor else -amount_minor end) <> 0`,
  );
  expect(unbalanced, 'every journal entry balances').toEqual([]);

  // Each event's effect once: inbox rows unique, one reaction per (type, cause).
  for (const schema of SCHEMAS) {
    const duplicateInbox = await rows(
      db,
      sql<{ consumer: string; event_id: string }>`
        select consumer, event_id from ${sql.table(`${schema}.inbox`)}
        group by consumer, event_id having count(*) > 1`,
    );
    expect(duplicateInbox, `${schema}: inbox rows unique`).toEqual([]);
    const duplicateReactions = await rows(
      db,
      sql<{ type: string; causation_id: string; n: number }>`
        select type, causation_id, count(*)::int as n from ${sql.table(`${schema}.outbox`)}
        where causation_id is not null group by type, causation_id having count(*) > 1`,
    );
    expect(duplicateReactions, `${schema}: one reaction event per type and cause`).toEqual([]);
  }
  const duplicateEntries = await rows(
    db,
    sql<{ source_id: string }>`
      select source_id from finance.journal_entry where source_type in ('INVOICE', 'CREDIT_NOTE')
      group by source_id having count(*) > 1`,
  );
  expect(duplicateEntries, 'one journal entry per document').toEqual([]);
  // Every delivered message was applied by the consumer it was delivered to (bus done ⇒ inbox row).
  const doneWithoutInbox = !(await hasBus(db))
    ? []
    : await rows(
        db,
        sql<{ consumer: string; id: string }>`
      select d.consumer, m.id from bus.delivery d join bus.message m on m.seq = d.message_seq
      where d.state = 'done' and not exists (
        select 1 from customer.inbox i where i.consumer = d.consumer and i.event_id = m.id
        union all select 1 from subscription.inbox i where i.consumer = d.consumer and i.event_id = m.id
        union all select 1 from finance.inbox i where i.consumer = d.consumer and i.event_id = m.id)`,
      );
  expect(doneWithoutInbox, 'every done delivery has its inbox row').toEqual([]);

  // Dead letters: only the ones the test left on purpose.
  let open = 0;
  for (const schema of SCHEMAS) {
    const [row] = await rows(
      db,
      sql<{
        n: number;
      }>`select count(*)::int as n from ${sql.table(`${schema}.dead_letter`)} where replayed_at is null`,
    );
    open += row?.n ?? 0;
  }
  expect(open, 'dead letters not replayed').toBe(options.openDeadLetters ?? 0);
}

function numeric<T extends { total: number | string }>(row: T) {
  return { ...row, total: Number(row.total) };
}
