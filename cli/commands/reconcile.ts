import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { formatMinor, parseDecimal } from '@c2c/platform/core';
import {
  bucketKey,
  compareContractValues,
  compareDocuments,
  compareOrders,
  compareUsage,
  monthRange,
  parseBucketKey,
  settledDifferences,
  triageBuckets,
  type BillingControlTotal,
  type BucketDifference,
  type ContractValue,
  type ContractValueDifference,
  type ControlTotal,
  type DocumentDifference,
  type DocumentRecord,
  type OrderDifference,
  type UsageDifference,
  type UsageReconciliationLine,
} from '@c2c/ops/reconcile';
import { GATEWAY_HELP, type Command } from '../lib/command.ts';
import { gatewayClient, GATEWAY_OPTIONS, gatewayUrl, resolveToken } from '../lib/gateway-client.ts';
import { operation } from '@c2c/schema/operations';

const USAGE = `Usage: npm run c2c -- reconcile [--from YYYY-MM] [--to YYYY-MM] [--grace-minutes N] [--json] [--url URL] [--token JWT]

Reconciles billing, the ERP and the CRM through the gateway. Each system reports its own facts;
this command compares them:
  1. control totals (count and sum of invoices and credit notes per currency, business unit,
     month of issue and kind) of billing and the ERP, in one request with the sync backlog and
     the stuck amendments;
  2. the documents of the buckets that differ, only those: UNPOSTED, POSTING_WITHOUT_INVOICE,
     AMOUNT_MISMATCH, with the document number and both amounts;
  3. contract values per customer: the ARR of billing's active subscriptions against the CRM's;
  4. orders: every WON opportunity in the CRM has exactly one subscription an order opened, on its
     plan, seats and start date (WON_WITHOUT_SUBSCRIPTION, MORE_THAN_ONE_SUBSCRIPTION,
     TERMS_MISMATCH, SUBSCRIPTION_WITHOUT_WON); orders billing has not answered yet are in flight.
  5. usage per subscription, period and metric: usage recorded against usage invoiced
     (adjustments included): MISMATCH (invoiced differs from the events billed: leakage or double
     billing) is a difference; UNBILLED (events waiting for their invoice: the period in its
     grace, or late usage waiting for the next invoice) is reported, settled by the next run.
Documents the ERP has not posted yet and issued less than --grace-minutes ago (default 5) are in
flight: reported as backlog, not as differences. Amendments not COMPLETED after the grace period
are reported as stuck.

--from/--to  months of issue to compare, both included (default: all)
--json       print the report as JSON
Exit codes: 0 no differences, 1 differences found, 2 usage error.

${GATEWAY_HELP}`;

type Money = { amount: string; currency: string };
const minor = (m: Money) => parseDecimal(m.amount, m.currency, null);

interface TotalsData {
  billing: (Omit<ControlTotal, 'totalMinor'> & {
    total: Money;
    inFlightCount: number;
    inFlightTotal: Money;
  })[];
  erp: (Omit<ControlTotal, 'totalMinor'> & { total: Money })[];
  backlog: {
    businessUnit: string;
    pendingCount: number;
    overdueCount: number;
    failedCount: number;
    oldestPendingAgeSeconds: number | null;
    oldestPendingIssuedAt: string | null;
  }[];
  stuck: {
    totalCount: number;
    nodes: {
      ageSeconds: number;
      step: { system: string; status: string; attempts: number; lastError: string | null } | null;
      amendment: {
        id: string;
        kind: string;
        status: string;
        correlationId: string;
        createdAt: string;
        subscription: { id: string; customer: { id: string } };
      };
    }[];
  };
}

interface DocumentNode {
  id: string;
  number: string;
  total: Money;
}
interface Page<N> {
  totalCount?: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: N[];
}
type BillingDocumentNode = DocumentNode & { inFlight: boolean; postingAcknowledgement: string };
type ValueNode = { customer: { id: string; name?: string }; annualValue: Money };

export interface BucketReport {
  currency: string;
  businessUnit: string;
  month: string;
  kind: string;
  billing: { count: number; total: string };
  erp: { count: number; total: string };
}

export interface ReconciliationReport {
  gateway: string;
  range: { from: string | null; to: string | null };
  graceMinutes: number;
  bucketsCompared: number;
  buckets: BucketReport[];
  documents: {
    kind: DocumentDifference['kind'];
    id: string;
    number: string;
    bucket: string;
    billing: string | null;
    erp: string | null;
  }[];
  contractValuesCompared: number;
  contractValues: { customerId: string; name: string | null; billing: string | null; crm: string | null }[];
  ordersCompared: number;
  ordersInFlight: number;
  orders: {
    kind: OrderDifference['kind'];
    opportunityId: string;
    subscriptionIds: string[];
    crm: string | null;
    billing: string | null;
  }[];
  stuckAmendments: TotalsData['stuck'];
  /** Usage periods (subscription, period, metric) whose recorded and invoiced usage differ. */
  usage: {
    kind: UsageDifference['kind'];
    subscriptionId: string;
    period: string;
    metric: string;
    recorded: string;
    invoiced: string;
    unbilled: string;
  }[];
  inFlight: { count: number; buckets: number };
  backlog: TotalsData['backlog'];
  differences: number;
  seconds: number;
}

const PAGE = 1000;
const DRILL_DOWN_CONCURRENCY = 4;
/** A book with more contract values than this gets a progress bar (on a TTY). */
const LARGE_BOOK = 2 * PAGE;

function money(minorUnits: number, currency: string): string {
  return `${formatMinor(minorUnits, currency)} ${currency}`;
}

function toRecord(node: DocumentNode): DocumentRecord {
  return { id: node.id, number: node.number, totalMinor: minor(node.total), currency: node.total.currency };
}

function toValue(node: ValueNode): ContractValue {
  return {
    customerId: node.customer.id,
    currency: node.annualValue.currency,
    annualValueMinor: minor(node.annualValue),
  };
}

export function formatAge(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.max(0, seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

type Gql = ReturnType<typeof gatewayClient>;

/** All documents of one bucket on both sides, a page of each per request. */
async function bucketDocuments(gql: Gql, difference: BucketDifference, graceMinutes: number) {
  const bucket = parseBucketKey(difference.key);
  const billing: BillingDocumentNode[] = [];
  const erp: DocumentNode[] = [];
  let billingAfter: string | null = null;
  let erpAfter: string | null = null;
  let withBilling = true;
  let withErp = true;
  while (withBilling || withErp) {
    const data: { billing?: Page<BillingDocumentNode>; erp?: Page<DocumentNode> } = await gql(
      operation('ops.ReconciliationDocuments'),
      { ...bucket, graceMinutes, first: PAGE, billingAfter, erpAfter, withBilling, withErp },
    );
    if (data.billing) {
      billing.push(...data.billing.nodes);
      billingAfter = data.billing.pageInfo.endCursor;
      withBilling = data.billing.pageInfo.hasNextPage;
    }
    if (data.erp) {
      erp.push(...data.erp.nodes);
      erpAfter = data.erp.pageInfo.endCursor;
      withErp = data.erp.pageInfo.hasNextPage;
    }
  }
  return { billing, erp };
}

interface WonNode {
  id: string;
  planCode: string;
  seats: number;
  startDate: string;
  customer: { id: string };
  order: { id: string; status: string } | null;
}
interface OrderSubscriptionNode {
  orderId: string;
  opportunityId: string;
  planCode: string;
  seats: number;
  startDate: string;
  subscription: { id: string };
}

/** Every won opportunity and every subscription an order opened, a page of each per request. */
async function orders(gql: Gql) {
  const crm: WonNode[] = [];
  const billing: OrderSubscriptionNode[] = [];
  let crmAfter: string | null = null;
  let billingAfter: string | null = null;
  let withCrm = true;
  let withBilling = true;
  while (withCrm || withBilling) {
    const data: { crm?: Page<WonNode>; billing?: Page<OrderSubscriptionNode> } = await gql(
      operation('ops.OrderReconciliation'),
      { first: PAGE, crmAfter, billingAfter, withCrm, withBilling },
    );
    if (data.crm) {
      crm.push(...data.crm.nodes);
      withCrm = data.crm.pageInfo.hasNextPage;
      crmAfter = data.crm.pageInfo.endCursor;
    }
    if (data.billing) {
      billing.push(...data.billing.nodes);
      withBilling = data.billing.pageInfo.hasNextPage;
      billingAfter = data.billing.pageInfo.endCursor;
    }
  }
  return { crm, billing };
}

const terms = (t: { planCode: string; seats: number; startDate: string }) =>
  `${t.planCode} × ${t.seats} from ${t.startDate}`;

/** Every contract value on both sides, a page of each per request, with a progress bar on large books. */
async function contractValues(gql: Gql) {
  const billing: ValueNode[] = [];
  const crm: ValueNode[] = [];
  let billingAfter: string | null = null;
  let crmAfter: string | null = null;
  let withBilling = true;
  let withCrm = true;
  let bar: SingleBar | null = null;
  for (let first = true; withBilling || withCrm; first = false) {
    const data: { billing?: Page<ValueNode>; crm?: Page<ValueNode> } = await gql(
      operation('ops.ContractValues'),
      {
        first: PAGE,
        billingAfter,
        crmAfter,
        withBilling,
        withCrm,
        withTotals: first,
      },
    );
    if (first) {
      const total = (data.billing?.totalCount ?? 0) + (data.crm?.totalCount ?? 0);
      if (process.stderr.isTTY && total > LARGE_BOOK) {
        bar = new SingleBar(
          {
            format: 'Contract values |{bar}| {percentage}% · {value}/{total} · ETA {eta}s',
            hideCursor: true,
            stream: process.stderr,
          },
          Presets.shades_classic,
        );
        bar.start(total, 0);
      }
    }
    if (data.billing) {
      billing.push(...data.billing.nodes);
      billingAfter = data.billing.pageInfo.endCursor;
      withBilling = data.billing.pageInfo.hasNextPage;
    }
    if (data.crm) {
      crm.push(...data.crm.nodes);
      crmAfter = data.crm.pageInfo.endCursor;
      withCrm = data.crm.pageInfo.hasNextPage;
    }
    bar?.update(billing.length + crm.length);
  }
  bar?.stop();
  return { billing, crm };
}

/** Runs `task` over `items` with at most `limit` at a time, keeping the input order. */
async function pool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function reconcile(
  gql: Gql,
  options: { gateway: string; range: { from: string | null; to: string | null }; graceMinutes: number },
): Promise<ReconciliationReport> {
  const started = Date.now();
  const totals = await gql<TotalsData>(operation('ops.ReconciliationTotals'), {
    from: options.range.from,
    to: options.range.to,
    graceMinutes: options.graceMinutes,
    stuckFirst: 100,
  });
  const billingTotals: BillingControlTotal[] = totals.billing.map(({ total, inFlightTotal, ...row }) => ({
    ...row,
    totalMinor: minor(total),
    inFlightTotalMinor: minor(inFlightTotal),
  }));
  const erpTotals: ControlTotal[] = totals.erp.map(({ total, ...row }) => ({
    ...row,
    totalMinor: minor(total),
  }));
  const triage = triageBuckets(billingTotals, erpTotals);
  const inFlightByBucket = new Map(billingTotals.map((b) => [bucketKey(b), b.inFlightCount]));
  let inFlightDocuments = triage.inFlightOnly.reduce((n, d) => n + (inFlightByBucket.get(d.key) ?? 0), 0);

  const drilled = await pool(triage.drillDown, DRILL_DOWN_CONCURRENCY, async (difference) => {
    const docs = await bucketDocuments(gql, difference, options.graceMinutes);
    const inFlightIds = new Set(docs.billing.filter((d) => d.inFlight).map((d) => d.id));
    const settled = settledDifferences(
      compareDocuments(docs.billing.map(toRecord), docs.erp.map(toRecord)),
      inFlightIds,
    );
    return { difference, ...settled };
  });

  const buckets: BucketReport[] = [];
  const documents: ReconciliationReport['documents'] = [];
  let bucketsInFlight = triage.inFlightOnly.length;
  for (const { difference, differences, inFlight } of drilled) {
    inFlightDocuments += inFlight.length;
    if (differences.length === 0) {
      bucketsInFlight++;
      continue;
    }
    const bucket = parseBucketKey(difference.key);
    buckets.push({
      ...bucket,
      billing: {
        count: difference.billing.count,
        total: money(difference.billing.totalMinor, bucket.currency),
      },
      erp: { count: difference.erp.count, total: money(difference.erp.totalMinor, bucket.currency) },
    });
    const label = `${bucket.currency} ${bucket.businessUnit} ${bucket.month} ${bucket.kind}`;
    for (const d of differences) {
      const billing = d.kind === 'POSTING_WITHOUT_INVOICE' ? null : d.billing;
      const erp = d.kind === 'UNPOSTED' ? null : d.erp;
      const doc = (billing ?? erp) as DocumentRecord;
      documents.push({
        kind: d.kind,
        id: doc.id,
        number: doc.number,
        bucket: label,
        billing: billing ? money(billing.totalMinor, billing.currency) : null,
        erp: erp ? money(erp.totalMinor, erp.currency) : null,
      });
    }
  }

  const values = await contractValues(gql);
  const names = new Map(values.crm.map((v) => [v.customer.id, v.customer.name ?? null]));
  const valueDifferences: ContractValueDifference[] = compareContractValues(
    values.billing.map(toValue),
    values.crm.map(toValue),
  );
  const customers = new Set([...values.billing, ...values.crm].map((v) => v.customer.id));
  const show = (v: ContractValue | null) => (v ? money(v.annualValueMinor, v.currency ?? 'XXX') : null);

  const book = await orders(gql);
  const orderComparison = compareOrders(
    book.crm.map((o) => ({
      opportunityId: o.id,
      customerId: o.customer.id,
      planCode: o.planCode,
      seats: o.seats,
      startDate: o.startDate,
      orderStatus: o.order?.status ?? null,
    })),
    book.billing.map((b) => ({
      orderId: b.orderId,
      opportunityId: b.opportunityId,
      subscriptionId: b.subscription.id,
      planCode: b.planCode,
      seats: b.seats,
      startDate: b.startDate,
    })),
  );
  const orderDifferences = orderComparison.differences.map((d) => {
    switch (d.kind) {
      case 'WON_WITHOUT_SUBSCRIPTION':
        return {
          kind: d.kind,
          opportunityId: d.opportunity.opportunityId,
          subscriptionIds: [],
          crm: terms(d.opportunity),
          billing: null,
        };
      case 'SUBSCRIPTION_WITHOUT_WON':
        return {
          kind: d.kind,
          opportunityId: d.subscription.opportunityId,
          subscriptionIds: [d.subscription.subscriptionId],
          crm: null,
          billing: terms(d.subscription),
        };
      case 'MORE_THAN_ONE_SUBSCRIPTION':
        return {
          kind: d.kind,
          opportunityId: d.opportunity.opportunityId,
          subscriptionIds: d.subscriptions.map((x) => x.subscriptionId),
          crm: terms(d.opportunity),
          billing: d.subscriptions.map(terms).join('; '),
        };
      case 'TERMS_MISMATCH':
        return {
          kind: d.kind,
          opportunityId: d.opportunity.opportunityId,
          subscriptionIds: [d.subscription.subscriptionId],
          crm: terms(d.opportunity),
          billing: terms(d.subscription),
        };
    }
  });

  // Usage periods are selected by their start, over the same months as the documents.
  const usageLines = (
    await gql<{ usageReconciliation: UsageReconciliationLine[] }>(operation('ops.UsageReconciliation'), {
      from: options.range.from,
      to: options.range.to,
    })
  ).usageReconciliation;
  const usage = compareUsage(usageLines).map(({ kind, line }) => ({
    kind,
    subscriptionId: line.subscriptionId,
    period: `${line.period.start} to ${line.period.end}`,
    metric: line.metric,
    recorded: line.recorded,
    invoiced: line.invoiced,
    unbilled: line.unbilled,
  }));
  const mismatches = usage.filter((u) => u.kind === 'MISMATCH').length;

  const differences =
    documents.length +
    valueDifferences.length +
    orderDifferences.length +
    totals.stuck.totalCount +
    mismatches;
  return {
    gateway: options.gateway,
    range: options.range,
    graceMinutes: options.graceMinutes,
    bucketsCompared: new Set([...billingTotals, ...erpTotals].map(bucketKey)).size,
    buckets,
    documents,
    contractValuesCompared: customers.size,
    contractValues: valueDifferences.map((d) => ({
      customerId: d.customerId,
      name: names.get(d.customerId) ?? null,
      billing: show(d.billing),
      crm: show(d.crm),
    })),
    ordersCompared: book.crm.length,
    ordersInFlight: orderComparison.inFlight.length,
    orders: orderDifferences,
    stuckAmendments: totals.stuck,
    usage,
    inFlight: { count: inFlightDocuments, buckets: bucketsInFlight },
    backlog: totals.backlog,
    differences,
    seconds: (Date.now() - started) / 1000,
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join(' | ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)]
    .map((l) => `  ${l}`)
    .join('\n');
}

export function formatReport(report: ReconciliationReport): string {
  const out: string[] = [];
  const range =
    report.range.from || report.range.to
      ? `issued ${report.range.from ?? '…'} to before ${report.range.to ?? '…'}`
      : 'all months';
  out.push(`Reconciliation of billing, ERP and CRM (${range}, grace ${report.graceMinutes} min)`);
  out.push('');
  out.push(
    `Control totals: ${report.bucketsCompared} bucket(s) compared, ${report.buckets.length} differ` +
      (report.inFlight.buckets ? ` (${report.inFlight.buckets} more only by documents in flight)` : ''),
  );
  if (report.buckets.length) {
    out.push(
      table(
        [
          'Currency',
          'Business unit',
          'Month',
          'Kind',
          'Billing count',
          'Billing total',
          'ERP count',
          'ERP total',
        ],
        report.buckets.map((b) => [
          b.currency,
          b.businessUnit,
          b.month,
          b.kind,
          String(b.billing.count),
          b.billing.total,
          String(b.erp.count),
          b.erp.total,
        ]),
      ),
    );
  }
  out.push('');
  out.push(`Documents: ${report.documents.length} difference(s)`);
  if (report.documents.length) {
    out.push(
      table(
        ['Difference', 'Number', 'Bucket', 'Billing', 'ERP', 'Document id'],
        report.documents.map((d) => [d.kind, d.number, d.bucket, d.billing ?? '—', d.erp ?? '—', d.id]),
      ),
    );
  }
  out.push('');
  out.push(
    `Contract values: ${report.contractValuesCompared} customer(s) compared, ${report.contractValues.length} differ`,
  );
  if (report.contractValues.length) {
    out.push(
      table(
        ['Customer', 'Name', 'Billing ARR', 'CRM value'],
        report.contractValues.map((c) => [c.customerId, c.name ?? '', c.billing ?? '—', c.crm ?? '—']),
      ),
    );
  }
  out.push('');
  out.push(
    `Orders: ${report.ordersCompared} won opportunit${report.ordersCompared === 1 ? 'y' : 'ies'} compared, ${report.orders.length} differ` +
      (report.ordersInFlight
        ? ` (${report.ordersInFlight} more in flight: billing has not answered yet)`
        : ''),
  );
  if (report.orders.length) {
    out.push(
      table(
        ['Difference', 'Opportunity', 'CRM (won)', 'Billing (opened)', 'Subscription ids'],
        report.orders.map((o) => [
          o.kind,
          o.opportunityId,
          o.crm ?? '—',
          o.billing ?? '—',
          o.subscriptionIds.join(' '),
        ]),
      ),
    );
  }
  out.push('');
  const stuck = report.stuckAmendments;
  out.push(`Stuck amendments (not COMPLETED after ${report.graceMinutes} min): ${stuck.totalCount}`);
  if (stuck.nodes.length) {
    out.push(
      table(
        ['Amendment', 'Kind', 'Status', 'Step', 'Attempts', 'Age', 'Correlation id', 'Last error'],
        stuck.nodes.map((s) => [
          s.amendment.id,
          s.amendment.kind,
          s.amendment.status,
          s.step ? `${s.step.system} ${s.step.status}` : '-',
          String(s.step?.attempts ?? 0),
          formatAge(s.ageSeconds),
          s.amendment.correlationId,
          (s.step?.lastError ?? '').slice(0, 80),
        ]),
      ),
    );
    if (stuck.totalCount > stuck.nodes.length)
      out.push(`  … and ${stuck.totalCount - stuck.nodes.length} more`);
  }
  out.push('');
  const usageMismatches = report.usage.filter((u) => u.kind === 'MISMATCH').length;
  out.push(
    `Usage (recorded against invoiced, per subscription, period and metric): ${usageMismatches} mismatch(es), ` +
      `${report.usage.length - usageMismatches} period(s) with usage waiting for its invoice`,
  );
  if (report.usage.length) {
    out.push(
      table(
        ['Difference', 'Subscription', 'Period', 'Metric', 'Recorded', 'Invoiced', 'Unbilled'],
        report.usage.map((u) => [
          u.kind,
          u.subscriptionId,
          u.period,
          u.metric,
          u.recorded,
          u.invoiced,
          u.unbilled,
        ]),
      ),
    );
  }
  out.push('');
  out.push(
    `Sync backlog (documents the ERP has not acknowledged): ${report.backlog.reduce((n, b) => n + b.pendingCount, 0)} pending, ` +
      `${report.inFlight.count} in flight within the grace period`,
  );
  if (report.backlog.length) {
    out.push(
      table(
        ['Business unit', 'Pending', 'Over grace', 'Failed', 'Oldest pending'],
        report.backlog.map((b) => [
          b.businessUnit,
          String(b.pendingCount),
          String(b.overdueCount),
          String(b.failedCount),
          formatAge(b.oldestPendingAgeSeconds),
        ]),
      ),
    );
  }
  out.push('');
  out.push(
    report.differences === 0
      ? `Reconciled: no differences (${report.seconds.toFixed(1)}s).`
      : `Reconciliation FAILED: ${report.differences} difference(s) (${report.seconds.toFixed(1)}s).`,
  );
  return out.join('\n');
}

export const command: Command = {
  name: 'reconcile',
  summary: 'reconcile billing, ERP and CRM (control totals, documents, contract values, orders, usage)',
  usage: USAGE,
  async run(argv) {
    let values;
    try {
      values = parseArgs({
        args: argv,
        options: {
          from: { type: 'string' },
          to: { type: 'string' },
          'grace-minutes': { type: 'string', default: '5' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
          ...GATEWAY_OPTIONS,
        },
      }).values;
    } catch (error) {
      console.error(`${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const range = monthRange(values.from, values.to);
    const grace = Number(values['grace-minutes']);
    if (!range || !/^\d+$/.test(values['grace-minutes']) || grace > 10_080) {
      console.error(
        `${range ? '--grace-minutes must be a whole number of minutes, 0–10080' : '--from/--to must be months YYYY-MM, --from not after --to'}\n\n${USAGE}`,
      );
      return 2;
    }
    const url = gatewayUrl(values.url);
    const report = await reconcile(gatewayClient(url, await resolveToken(values.token, 'finance')), {
      gateway: url,
      range,
      graceMinutes: grace,
    });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
    return report.differences === 0 ? 0 : 1;
  },
};
