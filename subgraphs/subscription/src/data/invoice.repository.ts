import { sql, type Insertable, type Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { SCHEMA, scoped, type InvoiceKind, type InvoiceLineTable, type InvoiceTable } from './tables.ts';

export type InvoiceRow = Selectable<InvoiceTable>;
export type InvoiceLineRow = Selectable<InvoiceLineTable>;
export type RankedInvoiceRow = InvoiceRow & { total_count: number; rn: number };

const NUMBERING: Record<InvoiceKind, { sequence: string; prefix: string }> = {
  INVOICE: { sequence: 'invoice_number_seq', prefix: 'INV' },
  CREDIT_NOTE: { sequence: 'credit_note_number_seq', prefix: 'CN' },
};

/**
 * The next document number of a kind (INV-000001, CN-000001), drawn from its sequence inside the
 * insert that uses it: no statement of its own, and no number drawn for a document not written.
 */
function nextDocumentNumber(kind: InvoiceKind) {
  const { sequence, prefix } = NUMBERING[kind];
  return sql<string>`(select ${prefix} || '-' || lpad(n::text, greatest(6, length(n::text)), '0')
    from nextval(${`${SCHEMA}.${sequence}`}::regclass) as n)`;
}

/**
 * An invoice or credit note with its lines. The lines are written as given (no column of theirs
 * has a default) and return nothing, so a caller holding inserts (`holdingInserts`) sends them
 * with its other rows; the invoice returns its number and defaults.
 */
export async function insertInvoice(
  db: AnyDb,
  invoice: Omit<
    Insertable<InvoiceTable>,
    'seq' | 'number' | 'status' | 'posting_status' | 'created_at' | 'updated_at'
  >,
  lines: InvoiceLineRow[],
): Promise<{ invoice: InvoiceRow; lines: InvoiceLineRow[] }> {
  const row = await scoped(db)
    .insertInto('invoice')
    .values({ ...invoice, number: nextDocumentNumber(invoice.kind) })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (lines.length) await scoped(db).insertInto('invoice_line').values(lines).execute();
  return { invoice: row, lines: [...lines].sort((a, b) => a.line_no - b.line_no) };
}

export async function findInvoicesByIds(db: AnyDb, ids: readonly string[]): Promise<InvoiceRow[]> {
  if (ids.length === 0) return [];
  return await scoped(db).selectFrom('invoice').selectAll().where('id', 'in', ids).execute();
}

export async function findLinesByInvoiceIds(
  db: AnyDb,
  invoiceIds: readonly string[],
): Promise<InvoiceLineRow[]> {
  if (invoiceIds.length === 0) return [];
  const rows = await scoped(db)
    .selectFrom('invoice_line')
    .selectAll()
    .where('invoice_id', 'in', invoiceIds)
    .orderBy('invoice_id')
    .orderBy('line_no')
    .execute();
  return rows;
}

/**
 * One page of invoices, newest first, for each of many subscriptions in one query. `total_count`
 * counts every invoice of the subscription. Rows after the cursor (`seq < afterSeq`) rank first,
 * so the first `limit` rows hold the page; rows before the cursor are returned only to fill in,
 * so that a subscription with an empty page still reports its count. Callers drop them.
 */
export async function findInvoicePages(
  db: AnyDb,
  subscriptionIds: readonly string[],
  limit: number,
  afterSeq: number | null,
): Promise<RankedInvoiceRow[]> {
  if (subscriptionIds.length === 0) return [];
  const afterFirst = afterSeq === null ? sql`` : sql`(seq < ${afterSeq}) desc, `;
  const ranked = scoped(db)
    .selectFrom('invoice')
    .selectAll()
    .select([
      sql<number>`count(*) over (partition by subscription_id)`.as('total_count'),
      sql<number>`row_number() over (partition by subscription_id order by ${afterFirst}seq desc)`.as('rn'),
    ])
    .where('subscription_id', 'in', subscriptionIds);
  const rows = await scoped(db)
    .selectFrom(ranked.as('ranked'))
    .selectAll()
    .where('rn', '<=', limit)
    .orderBy('subscription_id')
    .orderBy('rn')
    .execute();
  return rows.map((row) => ({ ...row, total_count: Number(row.total_count), rn: Number(row.rn) }));
}

export async function markPosted(
  db: AnyDb,
  invoiceId: string,
  journalEntryId: string,
  postedAt: Date,
): Promise<boolean> {
  const result = await scoped(db)
    .updateTable('invoice')
    .set({
      posting_status: 'POSTED',
      journal_entry_id: journalEntryId,
      posted_at: postedAt,
      posting_error: null,
      updated_at: new Date(),
    })
    .where('id', '=', invoiceId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A failure never overrides a posting the ERP already acknowledged. */
export async function markPostingFailed(db: AnyDb, invoiceId: string, error: string): Promise<boolean> {
  const result = await scoped(db)
    .updateTable('invoice')
    .set({ posting_status: 'FAILED', posting_error: error, updated_at: new Date() })
    .where('id', '=', invoiceId)
    .where('posting_status', '<>', 'POSTED')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function markPaid(db: AnyDb, invoiceId: string): Promise<boolean> {
  const result = await scoped(db)
    .updateTable('invoice')
    .set({ status: 'PAID', updated_at: new Date() })
    .where('id', '=', invoiceId)
    .where('status', '=', 'OPEN')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A document line that bills (or credits) seats up to a period's end, with its document's order. */
export interface PeriodSeatLine {
  seq: number;
  kind: InvoiceKind;
  quantity: number;
  tax_rate_ppm: number;
  tax_rate_missing: boolean;
}

/**
 * Lines of a subscription's documents whose service runs to `periodEnd` (the period invoice and
 * the prorations of that period), in issue order.
 */
export async function findPeriodSeatLines(
  db: AnyDb,
  subscriptionId: string,
  period: { start: string; end: string },
): Promise<PeriodSeatLine[]> {
  const rows = await scoped(db)
    .selectFrom('invoice_line')
    .innerJoin('invoice', 'invoice.id', 'invoice_line.invoice_id')
    .select([
      'invoice.seq',
      'invoice.kind',
      'invoice_line.quantity',
      'invoice_line.tax_rate_ppm',
      'invoice.tax_rate_missing',
    ])
    .where('invoice.subscription_id', '=', subscriptionId)
    .where('invoice_line.period_end', '=', period.end)
    .where('invoice_line.period_start', '>=', period.start)
    // Usage lines of the period bill usage, not seats.
    .where('invoice_line.usage_metric', 'is', null)
    .orderBy('invoice.seq')
    .orderBy('invoice_line.line_no')
    .execute();
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}
