import DataLoader from 'dataloader';
import type { AnyDb } from '@c2c/platform/db';
import {
  findAmendmentsByIds,
  findAmendmentsBySubscriptionIds,
  findStepsByAmendmentIds,
  type AmendmentRow,
  type AmendmentStepRow,
} from './amendment.repository.ts';
import {
  findInvoicePages,
  findInvoicesByIds,
  findLinesByInvoiceIds,
  type InvoiceLineRow,
  type InvoiceRow,
} from './invoice.repository.ts';
import { findPlansByCodes, type PlanRow } from './plan.repository.ts';
import {
  findSubscriptionsByCustomerIds,
  findSubscriptionsByIds,
  type SubscriptionRow,
} from './subscription.repository.ts';

export interface InvoicePage {
  rows: InvoiceRow[];
  totalCount: number;
}

function byKey<K, V>(rows: readonly V[], key: (row: V) => K): Map<K, V> {
  return new Map(rows.map((row) => [key(row), row]));
}

function groupBy<K, V>(rows: readonly V[], key: (row: V) => K): Map<K, V[]> {
  const groups = new Map<K, V[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
}

/** Invoice pages of many subscriptions, one query per distinct (limit, cursor) in the request. */
function invoicePageLoaders(db: AnyDb) {
  const loaders = new Map<string, DataLoader<string, InvoicePage>>();
  return (limit: number, afterSeq: number | null): DataLoader<string, InvoicePage> => {
    const key = `${limit}:${afterSeq ?? ''}`;
    let loader = loaders.get(key);
    if (!loader) {
      loader = new DataLoader<string, InvoicePage>(async (ids) => {
        const groups = groupBy(
          await findInvoicePages(db, ids, limit, afterSeq),
          (row) => row.subscription_id,
        );
        return ids.map((id) => {
          const ranked = groups.get(id) ?? [];
          const rows = afterSeq === null ? ranked : ranked.filter((row) => row.seq < afterSeq);
          return { rows, totalCount: ranked[0]?.total_count ?? 0 };
        });
      });
      loaders.set(key, loader);
    }
    return loader;
  };
}

/** Per-request loaders: one SQL query per entity type per request, whatever the list size. */
export function createSubscriptionLoaders(db: AnyDb) {
  return {
    planByCode: new DataLoader<string, PlanRow | null>(async (codes) => {
      const found = byKey(await findPlansByCodes(db, codes), (row) => row.code);
      return codes.map((code) => found.get(code) ?? null);
    }),
    subscriptionById: new DataLoader<string, SubscriptionRow | null>(async (ids) => {
      const found = byKey(await findSubscriptionsByIds(db, ids), (row) => row.id);
      return ids.map((id) => found.get(id) ?? null);
    }),
    subscriptionsByCustomerId: new DataLoader<string, SubscriptionRow[]>(async (ids) => {
      const groups = groupBy(await findSubscriptionsByCustomerIds(db, ids), (row) => row.customer_id);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    invoiceById: new DataLoader<string, InvoiceRow | null>(async (ids) => {
      const found = byKey(await findInvoicesByIds(db, ids), (row) => row.id);
      return ids.map((id) => found.get(id) ?? null);
    }),
    linesByInvoiceId: new DataLoader<string, InvoiceLineRow[]>(async (ids) => {
      const groups = groupBy(await findLinesByInvoiceIds(db, ids), (row) => row.invoice_id);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    invoicePage: invoicePageLoaders(db),
    amendmentById: new DataLoader<string, AmendmentRow | null>(async (ids) => {
      const found = byKey(await findAmendmentsByIds(db, ids), (row) => row.id);
      return ids.map((id) => found.get(id) ?? null);
    }),
    amendmentsBySubscriptionId: new DataLoader<string, AmendmentRow[]>(async (ids) => {
      const groups = groupBy(await findAmendmentsBySubscriptionIds(db, ids), (row) => row.subscription_id);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    stepsByAmendmentId: new DataLoader<string, AmendmentStepRow[]>(async (ids) => {
      const groups = groupBy(await findStepsByAmendmentIds(db, ids), (row) => row.amendment_id);
      return ids.map((id) => groups.get(id) ?? []);
    }),
  };
}

export type SubscriptionLoaders = ReturnType<typeof createSubscriptionLoaders>;
