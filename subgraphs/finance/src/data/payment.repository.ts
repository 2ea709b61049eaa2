import type { Insertable, Selectable } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import { scoped, type PaymentTable } from './tables.ts';

export type PaymentRow = Selectable<PaymentTable>;

export async function insertPayment(db: AnyDb, row: Insertable<PaymentTable>): Promise<PaymentRow> {
  return await scoped(db).insertInto('payment').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findPaymentsByIds(db: AnyDb, ids: readonly string[]): Promise<PaymentRow[]> {
  if (ids.length === 0) return [];
  return await scoped(db).selectFrom('payment').selectAll().where('id', 'in', ids).execute();
}

/** Oldest first; ids are UUID v7, which breaks ties between payments of one instant in creation order. */
export async function findPaymentsByInvoiceIds(
  db: AnyDb,
  invoiceIds: readonly string[],
): Promise<PaymentRow[]> {
  if (invoiceIds.length === 0) return [];
  const rows = await scoped(db)
    .selectFrom('payment')
    .selectAll()
    .where('invoice_id', 'in', invoiceIds)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows;
}
