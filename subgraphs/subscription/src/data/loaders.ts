import DataLoader from 'dataloader';
import type { AnyDb } from '@c2c/platform/db';
import { byKeyLoader, groupBy, groupedLoader } from '@c2c/platform/graphql';
import {
  findAmendmentsByIds,
  findAmendmentsBySubscriptionIds,
  findStepsByAmendmentIds,
} from './amendment.repository.ts';
import {
  findInvoicePages,
  findInvoicesByIds,
  findLinesByInvoiceIds,
  type InvoiceRow,
} from './invoice.repository.ts';
import { findPlansByCodes } from './plan.repository.ts';
import { findSubscriptionsByCustomerIds, findSubscriptionsByIds } from './subscription.repository.ts';

export interface InvoicePage {
  rows: InvoiceRow[];
  totalCount: number;
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

type Keys = readonly string[];

/** Per-request loaders: one SQL query per entity type per request, whatever the list size. */
export function createSubscriptionLoaders(db: AnyDb) {
  return {
    planByCode: byKeyLoader(
      (codes: Keys) => findPlansByCodes(db, codes),
      (row) => row.code,
    ),
    subscriptionById: byKeyLoader(
      (ids: Keys) => findSubscriptionsByIds(db, ids),
      (row) => row.id,
    ),
    subscriptionsByCustomerId: groupedLoader(
      (ids: Keys) => findSubscriptionsByCustomerIds(db, ids),
      (row) => row.customer_id,
    ),
    invoiceById: byKeyLoader(
      (ids: Keys) => findInvoicesByIds(db, ids),
      (row) => row.id,
    ),
    linesByInvoiceId: groupedLoader(
      (ids: Keys) => findLinesByInvoiceIds(db, ids),
      (row) => row.invoice_id,
    ),
    invoicePage: invoicePageLoaders(db),
    amendmentById: byKeyLoader(
      (ids: Keys) => findAmendmentsByIds(db, ids),
      (row) => row.id,
    ),
    amendmentsBySubscriptionId: groupedLoader(
      (ids: Keys) => findAmendmentsBySubscriptionIds(db, ids),
      (row) => row.subscription_id,
    ),
    stepsByAmendmentId: groupedLoader(
      (ids: Keys) => findStepsByAmendmentIds(db, ids),
      (row) => row.amendment_id,
    ),
  };
}

export type SubscriptionLoaders = ReturnType<typeof createSubscriptionLoaders>;
