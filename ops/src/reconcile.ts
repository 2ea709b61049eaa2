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

/** Billing's bucket, with its documents still in flight: not acknowledged by the ERP and younger than the grace period. */
export interface BillingControlTotal extends ControlTotal {
  inFlightCount: number;
  inFlightTotalMinor: number;
}

export interface BucketTriage {
  /** Buckets whose difference documents in flight do not explain: fetch their documents. */
  drillDown: BucketDifference[];
  /** Buckets that agree once billing's documents in flight are left out: backlog, not a difference. */
  inFlightOnly: BucketDifference[];
}

/**
 * Splits the differing buckets. A bucket that agrees with the ERP once billing's in-flight
 * documents are left out needs no drill-down (the ERP has simply not posted them yet); any other
 * differing bucket does — including one where in-flight documents hide a real difference, which
 * the documents then reveal.
 */
export function triageBuckets(billing: BillingControlTotal[], erp: ControlTotal[]): BucketTriage {
  const inFlight = new Map<BucketKey, { count: number; totalMinor: number }>();
  for (const row of billing) {
    const entry = inFlight.get(bucketKey(row)) ?? { count: 0, totalMinor: 0 };
    inFlight.set(bucketKey(row), {
      count: entry.count + row.inFlightCount,
      totalMinor: entry.totalMinor + row.inFlightTotalMinor,
    });
  }
  const triage: BucketTriage = { drillDown: [], inFlightOnly: [] };
  for (const difference of compareControlTotals(billing, erp)) {
    const flight = inFlight.get(difference.key);
    const explained =
      flight !== undefined &&
      flight.count > 0 &&
      difference.billing.count - flight.count === difference.erp.count &&
      difference.billing.totalMinor - flight.totalMinor === difference.erp.totalMinor;
    (explained ? triage.inFlightOnly : triage.drillDown).push(difference);
  }
  return triage;
}

/**
 * Leaves out the unposted documents still in flight (given by id): they are backlog, not yet a
 * difference. Everything else — an unposted document past the grace period, a posting without an
 * invoice, an amount mismatch — stays.
 */
export function settledDifferences(
  differences: DocumentDifference[],
  inFlightIds: ReadonlySet<string>,
): { differences: DocumentDifference[]; inFlight: DocumentDifference[] } {
  const settled: DocumentDifference[] = [];
  const inFlight: DocumentDifference[] = [];
  for (const d of differences) {
    if (d.kind === 'UNPOSTED' && inFlightIds.has(d.billing.id)) inFlight.push(d);
    else settled.push(d);
  }
  return { differences: settled, inFlight };
}

/**
 * The issue-date range [from, to) of the months `fromMonth` to `toMonth` (YYYY-MM, both included);
 * an open end stays null. Returns null when a month is malformed or the range is empty.
 */
export function monthRange(
  fromMonth: string | undefined,
  toMonth: string | undefined,
): { from: string | null; to: string | null } | null {
  const valid = (m: string) => /^\d{4}-(0[1-9]|1[0-2])$/.test(m);
  if ((fromMonth !== undefined && !valid(fromMonth)) || (toMonth !== undefined && !valid(toMonth)))
    return null;
  if (fromMonth !== undefined && toMonth !== undefined && fromMonth > toMonth) return null;
  const next = (m: string) => {
    const [y, mo] = m.split('-').map(Number) as [number, number];
    return mo === 12 ? `${y + 1}-01-01` : `${y}-${String(mo + 1).padStart(2, '0')}-01`;
  };
  return { from: fromMonth ? `${fromMonth}-01` : null, to: toMonth ? next(toMonth) : null };
}

/** A WON opportunity as the CRM reports it, with the status of its order. */
export interface WonOpportunity {
  opportunityId: string;
  customerId: string;
  planCode: string;
  seats: number;
  startDate: string;
  /** The status of its order; null when the CRM has none (which is itself a difference). */
  orderStatus: string | null;
}

/** A subscription an order opened, as billing reports it, with the terms it opened with. */
export interface OrderSubscriptionRecord {
  orderId: string;
  opportunityId: string;
  subscriptionId: string;
  planCode: string;
  seats: number;
  startDate: string;
}

export type OrderDifference =
  | { kind: 'WON_WITHOUT_SUBSCRIPTION'; opportunity: WonOpportunity }
  | { kind: 'SUBSCRIPTION_WITHOUT_WON'; subscription: OrderSubscriptionRecord }
  | {
      kind: 'MORE_THAN_ONE_SUBSCRIPTION';
      opportunity: WonOpportunity;
      subscriptions: OrderSubscriptionRecord[];
    }
  | {
      kind: 'TERMS_MISMATCH';
      opportunity: WonOpportunity;
      subscription: OrderSubscriptionRecord;
      fields: ('planCode' | 'seats' | 'startDate')[];
    };

/**
 * Orders: every WON opportunity has exactly one subscription, opened on its plan with its seats
 * and start date; every subscription an order opened belongs to a WON opportunity. A WON
 * opportunity whose order billing has not answered yet (VALIDATING) is in flight, not a difference.
 */
export function compareOrders(
  won: readonly WonOpportunity[],
  billing: readonly OrderSubscriptionRecord[],
): { differences: OrderDifference[]; inFlight: WonOpportunity[] } {
  const byOpportunity = new Map<string, OrderSubscriptionRecord[]>();
  for (const record of billing) {
    const list = byOpportunity.get(record.opportunityId) ?? [];
    list.push(record);
    byOpportunity.set(record.opportunityId, list);
  }
  const wonIds = new Set(won.map((o) => o.opportunityId));
  const differences: OrderDifference[] = [];
  const inFlight: WonOpportunity[] = [];
  for (const opportunity of won) {
    const subscriptions = byOpportunity.get(opportunity.opportunityId) ?? [];
    const [subscription] = subscriptions;
    if (!subscription) {
      if (opportunity.orderStatus === 'VALIDATING') inFlight.push(opportunity);
      else differences.push({ kind: 'WON_WITHOUT_SUBSCRIPTION', opportunity });
    } else if (subscriptions.length > 1) {
      differences.push({ kind: 'MORE_THAN_ONE_SUBSCRIPTION', opportunity, subscriptions });
    } else {
      const fields = (['planCode', 'seats', 'startDate'] as const).filter(
        (field) => opportunity[field] !== subscription[field],
      );
      if (fields.length > 0) differences.push({ kind: 'TERMS_MISMATCH', opportunity, subscription, fields });
    }
  }
  for (const record of billing)
    if (!wonIds.has(record.opportunityId))
      differences.push({ kind: 'SUBSCRIPTION_WITHOUT_WON', subscription: record });
  return { differences, inFlight };
}

/** Usage of one subscription, period and metric as billing reports it: exact decimal quantities. */
export interface UsageReconciliationLine {
  subscriptionId: string;
  period: { start: string; end: string };
  metric: string;
  recorded: string;
  invoiced: string;
  unbilled: string;
}

/**
 * A period whose usage recorded differs from usage invoiced: `MISMATCH` when the invoices billed
 * more or less than the events marked billed (leakage or double billing), `UNBILLED` when events
 * are still waiting for an invoice (the period in its grace, or late usage waiting for the next
 * invoice), which the next billing run settles.
 */
export interface UsageDifference {
  kind: 'MISMATCH' | 'UNBILLED';
  line: UsageReconciliationLine;
}

/** Exact micro-units of a decimal quantity string ("12.5"), for comparison without floats. */
export function quantityMicro(value: string): bigint {
  const [whole = '0', fraction = ''] = value.split('.');
  return BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, '0').slice(0, 6));
}

/** Names the differences between usage recorded and usage invoiced (adjustments included). */
export function compareUsage(lines: readonly UsageReconciliationLine[]): UsageDifference[] {
  const differences: UsageDifference[] = [];
  for (const line of lines) {
    const recorded = quantityMicro(line.recorded);
    const invoiced = quantityMicro(line.invoiced);
    const unbilled = quantityMicro(line.unbilled);
    if (recorded === invoiced) continue;
    differences.push({ kind: recorded - unbilled === invoiced ? 'UNBILLED' : 'MISMATCH', line });
  }
  return differences;
}
