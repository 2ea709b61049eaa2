import DataLoader from 'dataloader';
import type { AnyDb } from '@c2c/platform/db';
import { byKeyLoader, groupBy, groupedLoader } from '@c2c/platform/graphql';
import {
  findAmendmentsByIds,
  findAmendmentsBySubscriptionIds,
  findStepsByAmendmentIds,
} from './amendment.repository.ts';
import type { BillingPort } from '../ports/billing.port.ts';
import type { InvoiceRow } from './invoice.repository.ts';

export interface InvoicePage {
  rows: InvoiceRow[];
  totalCount: number;
}

/** Invoice pages of many subscriptions, one query per distinct (limit, cursor) in the request. */
function invoicePageLoaders(db: AnyDb, billing: BillingPort) {
  const loaders = new Map<string, DataLoader<string, InvoicePage>>();
  return (limit: number, afterSeq: number | null): DataLoader<string, InvoicePage> => {
    const key = `${limit}:${afterSeq ?? ''}`;
    let loader = loaders.get(key);
    if (!loader) {
      loader = new DataLoader<string, InvoicePage>(async (ids) => {
        const groups = groupBy(
          await billing.invoicePages(db, ids, limit, afterSeq),
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

/**
 * Per-request loaders: one batch read per entity type per request, whatever the list size. Plans,
 * subscriptions and documents come from the billing platform (its port), amendments from our tables.
 */
export function createSubscriptionLoaders(db: AnyDb, billing: BillingPort) {
  return {
    planByCode: byKeyLoader(
      (codes: Keys) => billing.plansByCodes(db, codes),
      (row) => row.code,
    ),
    subscriptionById: byKeyLoader(
      (ids: Keys) => billing.subscriptionsByIds(db, ids),
      (row) => row.id,
    ),
    subscriptionsByCustomerId: groupedLoader(
      (ids: Keys) => billing.subscriptionsByCustomerIds(db, ids),
      (row) => row.customer_id,
    ),
    invoiceById: byKeyLoader(
      (ids: Keys) => billing.invoicesByIds(db, ids),
      (row) => row.id,
    ),
    linesByInvoiceId: groupedLoader(
      (ids: Keys) => billing.linesByInvoiceIds(db, ids),
      (row) => row.invoice_id,
    ),
    invoicePage: invoicePageLoaders(db, billing),
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
