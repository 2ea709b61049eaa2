import { sql, type Insertable, type Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { SCHEMA, scoped, type ReceivableTable } from './tables.ts';

export type ReceivableRow = Selectable<ReceivableTable>;
export type NewReceivable = Insertable<ReceivableTable>;

/** Inserts receivables in one statement; the ids of those that were new (a re-issued event's is not). */
export async function insertReceivables(db: AnyDb, rows: readonly NewReceivable[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await scoped(db)
    .insertInto('receivable')
    .values([...rows])
    .onConflict((oc) => oc.column('invoice_id').doNothing())
    .returning('invoice_id')
    .execute();
  return new Set(inserted.map((row) => row.invoice_id));
}

/** Marks documents posted with their journal entries, in one statement. */
export async function markPosted(
  db: AnyDb,
  postings: readonly { invoiceId: string; journalEntryId: string; postedAt: Date }[],
): Promise<void> {
  if (postings.length === 0) return;
  await sql`update ${sql.table(`${SCHEMA}.receivable`)} as r
    set posting_status = 'POSTED', journal_entry_id = v.journal_entry_id, posted_at = v.posted_at,
        posting_error = null
    from (values ${sql.join(
      postings.map((p) => sql`(${p.invoiceId}::uuid, ${p.journalEntryId}::uuid, ${p.postedAt}::timestamptz)`),
    )}) as v (invoice_id, journal_entry_id, posted_at)
    where r.invoice_id = v.invoice_id`.execute(db);
}

export async function findReceivablesByIds(
  db: AnyDb,
  invoiceIds: readonly string[],
): Promise<ReceivableRow[]> {
  if (invoiceIds.length === 0) return [];
  const rows = await scoped(db)
    .selectFrom('receivable')
    .selectAll()
    .where('invoice_id', 'in', invoiceIds)
    .execute();
  return rows;
}

/** Locks the receivable so concurrent payments cannot both pass the overpayment check. */
export async function findReceivableForUpdate(
  db: AnyDb,
  invoiceId: string,
): Promise<ReceivableRow | undefined> {
  const row = await scoped(db)
    .selectFrom('receivable')
    .selectAll()
    .where('invoice_id', '=', invoiceId)
    .forUpdate()
    .executeTakeFirst();
  return row;
}

export async function decreaseAmountDue(db: AnyDb, invoiceId: string, amountMinor: number): Promise<number> {
  const row = await scoped(db)
    .updateTable('receivable')
    .set((eb) => ({ amount_due_minor: eb('amount_due_minor', '-', amountMinor) }))
    .where('invoice_id', '=', invoiceId)
    .returning('amount_due_minor')
    .executeTakeFirstOrThrow();
  return Number(row.amount_due_minor);
}

/**
 * The documents of a subscription that still carry an amount to allocate, oldest first, locked:
 * open invoices (amount due > 0) and credit notes with a credit balance (amount due < 0).
 */
/**
 * The open documents (amount due ≠ 0) of these subscriptions, each in its currency, locked, in one
 * statement: oldest first within each (the order credit allocation pairs them in).
 */
export async function findOpenDocumentsForUpdate(
  db: AnyDb,
  pairs: readonly { subscriptionId: string; currency: string }[],
): Promise<ReceivableRow[]> {
  if (pairs.length === 0) return [];
  return await scoped(db)
    .selectFrom('receivable')
    .selectAll()
    .where((eb) =>
      eb.or(
        pairs.map(({ subscriptionId, currency }) =>
          eb.and([eb('subscription_id', '=', subscriptionId), eb('currency', '=', currency)]),
        ),
      ),
    )
    .where('amount_due_minor', '<>', 0)
    .orderBy('subscription_id')
    .orderBy('currency')
    .orderBy('issued_on')
    .orderBy('created_at')
    .orderBy('invoice_id')
    .forUpdate()
    .execute();
}

/** Applies `amountMinor` of a credit note to an invoice: both amounts due move toward zero. */
export async function allocateCredit(
  db: AnyDb,
  allocation: { creditNoteId: string; invoiceId: string; amountMinor: number; currency: string },
): Promise<void> {
  await scoped(db)
    .updateTable('receivable')
    .set((eb) => ({ amount_due_minor: eb('amount_due_minor', '-', allocation.amountMinor) }))
    .where('invoice_id', '=', allocation.invoiceId)
    .execute();
  await scoped(db)
    .updateTable('receivable')
    .set((eb) => ({ amount_due_minor: eb('amount_due_minor', '+', allocation.amountMinor) }))
    .where('invoice_id', '=', allocation.creditNoteId)
    .execute();
  await scoped(db)
    .insertInto('credit_allocation')
    .values({
      credit_note_id: allocation.creditNoteId,
      invoice_id: allocation.invoiceId,
      amount_minor: allocation.amountMinor,
      currency: allocation.currency,
    })
    .onConflict((oc) =>
      oc.columns(['credit_note_id', 'invoice_id']).doUpdateSet((eb) => ({
        amount_minor: eb('credit_allocation.amount_minor', '+', allocation.amountMinor),
      })),
    )
    .execute();
}

export interface ReceivableTotals {
  customerId: string;
  currency: string;
  documentCount: number;
  balanceMinor: number;
  overdueMinor: number;
  openInvoiceCount: number;
}

/** Per customer and currency, in one query: balance, overdue as of `today`, and open invoices. */
export async function receivableTotals(
  db: AnyDb,
  customerIds: readonly string[],
  today: string,
): Promise<ReceivableTotals[]> {
  if (customerIds.length === 0) return [];
  const openInvoice = sql`kind = 'INVOICE' and amount_due_minor > 0`;
  const rows = await scoped(db)
    .selectFrom('receivable')
    .select([
      'customer_id',
      'currency',
      sql<number>`count(*)`.as('document_count'),
      sql<number>`sum(amount_due_minor)::bigint`.as('balance'),
      sql<number>`coalesce(sum(amount_due_minor) filter (where ${openInvoice} and due_on < ${today}::date), 0)::bigint`.as(
        'overdue',
      ),
      sql<number>`count(*) filter (where ${openInvoice})`.as('open_invoices'),
    ])
    .where('customer_id', 'in', customerIds)
    .groupBy(['customer_id', 'currency'])
    .execute();
  return rows.map((row) => ({
    customerId: row.customer_id,
    currency: row.currency,
    documentCount: Number(row.document_count),
    balanceMinor: Number(row.balance),
    overdueMinor: Number(row.overdue),
    openInvoiceCount: Number(row.open_invoices),
  }));
}
