/**
 * Reconciliation of billing (sub-ledger), ERP (ledger) and CRM (contract values) by control
 * totals, then by document only where a bucket's totals differ. Pure: the inputs come from each
 * system's own GraphQL fields, fetched through the supergraph by the CLI or the ops console, so
 * no system reads another's data and the comparison stays cheap on large books (aggregates are
 * computed in SQL by each system; documents are fetched only for differing buckets).
 */

/** One control-total bucket as a system reports it. */
export interface ControlTotal {
  currency: string;
  businessUnit: string;
  /** YYYY-MM of the document's issue date. */
  month: string;
  kind: 'INVOICE' | 'CREDIT_NOTE';
  count: number;
  /** Sum of document totals in minor units. */
  totalMinor: number;
}

export type BucketKey = string;

export function bucketKey(t: Pick<ControlTotal, 'currency' | 'businessUnit' | 'month' | 'kind'>): BucketKey {
  return [t.currency, t.businessUnit, t.month, t.kind].join('|');
}

export function parseBucketKey(
  key: BucketKey,
): Pick<ControlTotal, 'currency' | 'businessUnit' | 'month' | 'kind'> {
  const [currency = '', businessUnit = '', month = '', kind = 'INVOICE'] = key.split('|');
  return { currency, businessUnit, month, kind: kind as ControlTotal['kind'] };
}

export interface BucketDifference {
  key: BucketKey;
  billing: { count: number; totalMinor: number };
  erp: { count: number; totalMinor: number };
}

/** Buckets whose count or sum differ between billing and the ERP (a missing bucket counts as zero). */
export function compareControlTotals(billing: ControlTotal[], erp: ControlTotal[]): BucketDifference[] {
  const sides = new Map<BucketKey, BucketDifference>();
  const empty = () => ({ count: 0, totalMinor: 0 });
  const add = (side: 'billing' | 'erp', rows: ControlTotal[]) => {
    for (const row of rows) {
      const key = bucketKey(row);
      const entry = sides.get(key) ?? { key, billing: empty(), erp: empty() };
      entry[side] = {
        count: entry[side].count + row.count,
        totalMinor: entry[side].totalMinor + row.totalMinor,
      };
      sides.set(key, entry);
    }
  };
  add('billing', billing);
  add('erp', erp);
  return [...sides.values()]
    .filter((d) => d.billing.count !== d.erp.count || d.billing.totalMinor !== d.erp.totalMinor)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** A billing document as one system records it. */
export interface DocumentRecord {
  id: string;
  number: string;
  totalMinor: number;
  currency: string;
}

export type DocumentDifference =
  | { kind: 'UNPOSTED'; billing: DocumentRecord }
  | { kind: 'POSTING_WITHOUT_INVOICE'; erp: DocumentRecord }
  | { kind: 'AMOUNT_MISMATCH'; billing: DocumentRecord; erp: DocumentRecord };

/** The exact documents behind a differing bucket. */
export function compareDocuments(billing: DocumentRecord[], erp: DocumentRecord[]): DocumentDifference[] {
  const erpById = new Map(erp.map((d) => [d.id, d]));
  const billingIds = new Set(billing.map((d) => d.id));
  const differences: DocumentDifference[] = [];
  for (const doc of billing) {
    const posted = erpById.get(doc.id);
    if (!posted) differences.push({ kind: 'UNPOSTED', billing: doc });
    else if (posted.totalMinor !== doc.totalMinor || posted.currency !== doc.currency) {
      differences.push({ kind: 'AMOUNT_MISMATCH', billing: doc, erp: posted });
    }
  }
  for (const doc of erp) {
    if (!billingIds.has(doc.id)) differences.push({ kind: 'POSTING_WITHOUT_INVOICE', erp: doc });
  }
  return differences;
}

export interface ContractValue {
  customerId: string;
  currency: string | null;
  annualValueMinor: number;
}

export interface ContractValueDifference {
  customerId: string;
  billing: ContractValue | null;
  crm: ContractValue | null;
}

/** Customers whose CRM contract value differs from the ARR of their active billing subscriptions. */
export function compareContractValues(
  billing: ContractValue[],
  crm: ContractValue[],
): ContractValueDifference[] {
  const crmById = new Map(crm.map((c) => [c.customerId, c]));
  const billingById = new Map(billing.map((c) => [c.customerId, c]));
  const differences: ContractValueDifference[] = [];
  for (const b of billing) {
    const c = crmById.get(b.customerId) ?? null;
    const same =
      c === null
        ? b.annualValueMinor === 0
        : c.annualValueMinor === b.annualValueMinor &&
          (b.annualValueMinor === 0 || c.currency === b.currency);
    if (!same) differences.push({ customerId: b.customerId, billing: b, crm: c });
  }
  for (const c of crm) {
    if (!billingById.has(c.customerId) && c.annualValueMinor !== 0)
      differences.push({ customerId: c.customerId, billing: null, crm: c });
  }
  return differences.sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
}
