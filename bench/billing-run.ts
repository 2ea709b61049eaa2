import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { sql } from 'kysely';
import pg from 'pg';
import { addMonthsClamped, todayUtc, type IsoDate } from '@c2c/platform/core';
import { openDatabase, type Database } from '@c2c/platform/db';
import { operation } from '@c2c/schema/operations';
import { subgraphOfSystem } from '@c2c/schema/subgraphs';
import { withBenchCluster } from './bench-cluster.ts';
import { startBenchStack } from './contributed.ts';
import { cpuPerUnit, cpuSnapshot, sleep } from './processes.ts';
import { round } from './report.ts';

/*
 * The monthly billing run at scale (issue 19): N subscriptions due for renewal, then one
 * `billing.RenewSubscriptions` through the gateway, measured until every renewal is settled END TO
 * END: its invoice issued (billing), posted in the ERP (receivable and journal entry) and the
 * CRM's contract line at the renewed version (the customer's contract value recomputed).
 *
 * The seed is bulk SQL straight into the subgraphs' own tables (the run is measured, not the
 * onboarding): one monthly plan, N/5 customers (CRM customer, billing's bill-to replica, the ERP's
 * customer master), N subscriptions in their first month whose period ended on the first of this
 * month, with the ERP's contract record and the CRM's contract line at version 1 — what the
 * subscription.created events would have left — and each one's first invoice, posted in the ERP. Nothing of the measured part is bypassed: the
 * mutation, the run's transaction, the outbox, the relay, the bus and every consumer are the
 * production code, on the production shape: `npm run start:cluster`'s processes on PostgreSQL +
 * NATS when both are given, else the one-process stack (PGlite in memory, or a fresh database of
 * --database-url with the in-database bus).
 */

const BILLING = subgraphOfSystem('billing');
const ERP = subgraphOfSystem('ERP');
const CRM = subgraphOfSystem('CRM');

/** Renewals per second end to end the issue asks for. */
export const BILLING_RUN_TARGET_PER_SECOND = 300;

export interface BillingRunReport {
  store: string;
  renewals: number;
  customers: number;
  /** Seconds the bulk SQL seed took (not measured as part of the run). */
  seedSeconds: number;
  /** Mutation sent → its answer (the run's transaction committed: every renewal invoice issued). */
  issueSeconds: number;
  /** Mutation sent → every renewal invoice posted in the ERP. */
  postedSeconds: number;
  /** Mutation sent → every CRM contract line at the renewed version. */
  crmSeconds: number;
  /** Mutation sent → issued, posted and in the CRM: the end to end figure. */
  settledSeconds: number;
  /** Mutation sent → every RENEWAL amendment COMPLETED (billing has both acknowledgements). */
  acknowledgedSeconds: number | null;
  /** Renewals ÷ settledSeconds. */
  renewalsPerSecond: number;
  /** Renewals ÷ issueSeconds (the run's own transaction). */
  issuedPerSecond: number;
  /** renewalsPerSecond ÷ the 300/s target. */
  overTarget: number;
  /** CPU ms per renewal from the mutation to settlement, per part of the system (from /proc), and total. */
  cpuMsPerRenewal: Record<string, number>;
  /** Peak resident memory per Node.js part (replicas summed) sampled every 500 ms, MiB. */
  peakRssMiB: Record<string, number>;
  /** Sum of the customers' contract values after the run = the seeded one (renewals keep seats). */
  contractValueChecked: boolean;
  notes: string[];
}

/** Runs one SQL text and returns its rows (PGlite through kysely, or a pg pool). */
type SqlRunner = <R>(text: string) => Promise<R[]>;

/**
 * How many renewals: BENCH_BILLING_RENEWALS, else 10^5 in a full run; a quick run takes 2,000 on
 * the cluster and 1,000 on the one-process stack (about 12–25/s there: under 2 minutes).
 */
export function billingRenewals(
  quick: boolean,
  env: Record<string, string | undefined>,
  cluster = true,
): number {
  const given = Number(env.BENCH_BILLING_RENEWALS);
  if (Number.isInteger(given) && given >= 10 && given <= 1_000_000) return given;
  if (!quick) return 100_000;
  return cluster ? 2_000 : 1_000;
}

/**
 * The seed (see the header): the first of last month to the first of this month, so that a run as
 * of today renews each subscription exactly once. `plan` is unique per run.
 */
async function seed(run: SqlRunner, renewals: number, today: IsoDate): Promise<{ customers: number }> {
  const thisMonth = `${today.slice(0, 7)}-01` as IsoDate;
  const lastMonth = addMonthsClamped(thisMonth, -1);
  const customers = Math.max(1, Math.ceil(renewals / 5));
  const plan = 'BENCH-RENEWAL';
  await run(`insert into ${BILLING}.plan (code, name, billing_period, unit_price_minor, currency, min_seats, max_seats)
    values ('${plan}', 'Bench renewal', 'MONTH', 1500, 'EUR', 1, 1000)`);
  await run(`insert into ${BILLING}.bill_to_account (id, name, email, status, business_unit, country, region, version)
    select gen_random_uuid(), 'Bench customer ' || g, 'bench' || g || '@example.com', 'ACTIVE', 'EMEA', 'DE', null, 1
    from generate_series(1, ${customers}) g`);
  await run(`insert into ${CRM}.customer (id, name, email, status, business_unit, country, version)
    select id, name, email, status, business_unit, country, version from ${BILLING}.bill_to_account`);
  await run(`insert into ${ERP}.customer_master (id, name, status, business_unit, country, region, version)
    select id, name, status, business_unit, country, region, version from ${BILLING}.bill_to_account`);
  // Subscription g belongs to customer 1 + g % customers; seats 1–7.
  await run(`insert into ${BILLING}.subscription (id, customer_id, plan_code, billing_period, unit_price_minor,
      currency, status, seats, start_date, period_index, current_period_start, current_period_end)
    select gen_random_uuid(), c.id, '${plan}', 'MONTH', 1500, 'EUR', 'ACTIVE', 1 + g % 7,
      '${lastMonth}', 0, '${lastMonth}', '${thisMonth}'
    from generate_series(1, ${renewals}) g
    join (select id, row_number() over (order by id) as n from ${BILLING}.bill_to_account) c
      on c.n = 1 + g % ${customers}`);
  await run(`insert into ${ERP}.contract (subscription_id, customer_id, plan_code, billing_period, status, seats,
      unit_price_minor, currency, start_date, period_start, period_end, version)
    select id, customer_id, plan_code, billing_period, status, seats, unit_price_minor, currency, start_date,
      current_period_start, current_period_end, version
    from ${BILLING}.subscription`);
  await run(`insert into ${CRM}.contract_line (subscription_id, customer_id, currency, annual_value_minor, active, source_version)
    select id, customer_id, currency, seats * unit_price_minor * 12, true, version from ${BILLING}.subscription`);
  await run(`update ${CRM}.customer c set contract_value_minor = s.total, contract_currency = 'EUR'
    from (select customer_id, sum(annual_value_minor) as total from ${CRM}.contract_line group by customer_id) s
    where c.id = s.customer_id`);
  // The book's history: each subscription's first invoice (19 % German VAT), issued and paid last
  // month, and its posting in the ERP (receivable, journal entry and lines, revenue schedule). A
  // run on empty invoice and ledger tables is not only unlike a real book: PostgreSQL plans the
  // foreign-key checks of a connection once, and planned on an empty table they scan it whole, so
  // every insert cost more than the one before (see docs/benchmarks.md).
  await run(`insert into ${BILLING}.invoice (id, number, kind, status, customer_id, subscription_id, business_unit,
      currency, issued_on, due_on, subtotal_minor, tax_minor, total_minor, posting_status, journal_entry_id, posted_at)
    select gen_random_uuid(), 'BENCH-' || row_number() over (order by id), 'INVOICE', 'PAID', customer_id, id,
      'EMEA', 'EUR', '${lastMonth}', date '${lastMonth}' + 14, seats * 1500, seats * 285, seats * 1785, 'POSTED',
      null, now()
    from ${BILLING}.subscription`);
  await run(`update ${BILLING}.invoice set journal_entry_id = md5(id::text)::uuid::text`);
  await run(`insert into ${BILLING}.invoice_line (id, invoice_id, line_no, description, quantity, unit_price_minor,
      amount_minor, tax_rate_ppm, tax_minor, period_start, period_end)
    select gen_random_uuid(), id, 1, 'Bench renewal', subtotal_minor / 1500, 1500, subtotal_minor, 190000, tax_minor,
      '${lastMonth}', '${thisMonth}'
    from ${BILLING}.invoice`);
  await run(`insert into ${ERP}.journal_entry (id, entry_date, memo, source_type, source_id)
    select journal_entry_id::uuid, issued_on, 'Invoice ' || number, 'INVOICE', id from ${BILLING}.invoice`);
  await run(`insert into ${ERP}.journal_line (entry_id, line_no, account, side, amount_minor, currency)
    select journal_entry_id::uuid, l.line_no, l.account, l.side, l.amount, 'EUR'
    from ${BILLING}.invoice i cross join lateral (values
      (1, 'ACCOUNTS_RECEIVABLE', 'DEBIT', i.total_minor),
      (2, 'DEFERRED_REVENUE', 'CREDIT', i.subtotal_minor),
      (3, 'TAX_PAYABLE', 'CREDIT', i.tax_minor)) as l(line_no, account, side, amount)`);
  await run(`insert into ${ERP}.receivable (invoice_id, number, kind, customer_id, subscription_id, business_unit,
      currency, issued_on, due_on, subtotal_minor, tax_minor, total_minor, amount_due_minor, posting_status,
      journal_entry_id, posted_at)
    select id, number, kind, customer_id, subscription_id, business_unit, currency, issued_on, due_on,
      subtotal_minor, tax_minor, total_minor, 0, 'POSTED', journal_entry_id::uuid, posted_at
    from ${BILLING}.invoice`);
  await run(`insert into ${ERP}.revenue_schedule (invoice_id, line_id, subscription_id, month, amount_minor, currency, recognized)
    select l.invoice_id, l.id::text, i.subscription_id, '${lastMonth.slice(0, 7)}', l.amount_minor, 'EUR', true
    from ${BILLING}.invoice_line l join ${BILLING}.invoice i on i.id = l.invoice_id`);
  await run(`analyze`);
  return { customers };
}

/** `seed`, timed and reported (not part of what the run measures). */
async function seedTimed(
  run: SqlRunner,
  options: { renewals: number; log: (line: string) => void },
  today: IsoDate,
): Promise<{ customers: number; seedSeconds: number }> {
  const seeding = process.hrtime.bigint();
  const { customers } = await seed(run, options.renewals, today);
  const seedSeconds = round(Number(process.hrtime.bigint() - seeding) / 1e9, 1);
  options.log(
    `billing: seeded ${options.renewals} subscriptions of ${customers} customers in ${seedSeconds} s`,
  );
  return { customers, seedSeconds };
}

interface Progress {
  issued: number;
  posted: number;
  crm: number;
  acknowledged: number;
}

/** One look at every system's tables: what of the run has arrived where. */
async function progress(run: SqlRunner, renewedOn: IsoDate): Promise<Progress> {
  const [row] = await run<Record<keyof Progress, string | number>>(`select
      (select count(*) from ${BILLING}.invoice where issued_on = '${renewedOn}') as issued,
      (select count(*) from ${ERP}.receivable
        where issued_on = '${renewedOn}' and posted_at is not null and journal_entry_id is not null) as posted,
      (select count(*) from ${CRM}.contract_line where source_version >= 2) as crm,
      (select count(*) from ${BILLING}.amendment where kind = 'RENEWAL' and status = 'COMPLETED') as acknowledged`);
  return {
    issued: Number(row?.issued ?? 0),
    posted: Number(row?.posted ?? 0),
    crm: Number(row?.crm ?? 0),
    acknowledged: Number(row?.acknowledged ?? 0),
  };
}

/** Resident memory of the processes of each group now, MiB (groups as `cpuSnapshot` names them). */
function rssSnapshot(classify: (commandLine: string, pid: number) => string | null): Map<string, number> {
  const totals = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const group = classify(commandLine, Number(pid));
      if (!group) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      totals.set(group, (totals.get(group) ?? 0) + rss);
    } catch {
      // gone meanwhile
    }
  }
  return totals;
}

/**
 * The measured part: sends the run and polls the three systems' tables every 250 ms until every
 * renewal is issued, posted and in the CRM (and, for the report, acknowledged back in billing).
 */
async function measureRun(options: {
  gatewayUrl: string;
  token: string;
  run: SqlRunner;
  renewals: number;
  today: IsoDate;
  classify: (commandLine: string, pid: number) => string | null;
  /** Groups whose resident memory is reported (Node.js processes; PostgreSQL's shared memory is not). */
  memoryGroups: (group: string) => boolean;
  log: (line: string) => void;
}): Promise<Omit<BillingRunReport, 'store' | 'customers' | 'seedSeconds'>> {
  const { renewals, log } = options;
  const notes: string[] = [];
  const peak = new Map<string, number>();
  const sampleMemory = () => {
    let total = 0;
    for (const [group, mib] of rssSnapshot(options.classify)) {
      if (!options.memoryGroups(group)) continue;
      peak.set(group, Math.max(peak.get(group) ?? 0, mib));
      total += mib;
    }
    peak.set('total', Math.max(peak.get('total') ?? 0, total));
  };
  const sampler = setInterval(sampleMemory, 500);
  const cpuBefore = cpuSnapshot(options.classify);
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  let issueSeconds: number | null = null;
  let answerError: string | null = null;
  let answerLost: number | null = null;
  const mutation = postLong(options.gatewayUrl, options.token, {
    query: operation('billing.RenewSubscriptions'),
    variables: { asOf: options.today, idempotencyKey: randomUUID() },
  }).then(
    (body) => {
      issueSeconds = elapsed();
      const payload = (
        body as {
          data?: {
            renewSubscriptions?: { renewedCount: number; userErrors: { code: string; message: string }[] };
          };
          errors?: { message: string }[];
        }
      ).data?.renewSubscriptions;
      if (!payload) answerError = JSON.stringify(body).slice(0, 500);
      else if (payload.userErrors.length) answerError = JSON.stringify(payload.userErrors);
      else if (payload.renewedCount !== renewals)
        answerError = `renewed ${payload.renewedCount} of ${renewals} subscriptions`;
    },
    (error: unknown) => {
      // Without an answer the tables below still say whether and when the run committed.
      answerLost = elapsed();
      notes.push(
        `the mutation's answer was lost (${(error as Error).message}); issue time read from the tables`,
      );
    },
  );
  const at: Partial<Record<keyof Progress, number>> = {};
  let last: Progress = { issued: 0, posted: 0, crm: 0, acknowledged: 0 };
  let lastChange = Date.now();
  let logged = 0;
  try {
    for (;;) {
      if (answerError) throw new Error(`billing run: ${answerError}`);
      const now = await progress(options.run, `${options.today.slice(0, 7)}-01` as IsoDate);
      const t = elapsed();
      for (const key of ['issued', 'posted', 'crm', 'acknowledged'] as const)
        if (at[key] === undefined && now[key] >= renewals) at[key] = t;
      if (t - logged >= 15) {
        logged = t;
        log(
          `billing: ${t.toFixed(0)} s issued ${now.issued}, posted ${now.posted}, CRM ${now.crm}, acknowledged ${now.acknowledged} of ${renewals}`,
        );
      }
      if (JSON.stringify(now) !== JSON.stringify(last)) {
        last = now;
        lastChange = Date.now();
      }
      const settled = at.issued !== undefined && at.posted !== undefined && at.crm !== undefined;
      // Acknowledgements are waited for a little longer, for the report; they are not the target.
      if (settled && (at.acknowledged !== undefined || t - Math.max(at.posted!, at.crm!) > 30)) break;
      // The run's transaction shows nothing until it commits: allow it its time, then no stall.
      if (answerLost !== null && last.issued === 0 && elapsed() - answerLost > 60)
        throw new Error('billing run: no answer and nothing issued 60 s later (rolled back?)');
      if (last.issued > 0 && Date.now() - lastChange > 120_000)
        throw new Error(`billing run stalled for 120 s at ${JSON.stringify(last)} of ${renewals}`);
      if (elapsed() > 4 * 3600) throw new Error(`billing run not settled in 4 h: ${JSON.stringify(last)}`);
      await sleep(250);
    }
    await mutation;
  } finally {
    clearInterval(sampler);
  }
  sampleMemory();
  const cpuMsPerRenewal = cpuPerUnit(cpuBefore, cpuSnapshot(options.classify), renewals);
  // Whichever came first: on the one-process stack the answer waits for the thread that applies
  // the events, while the tables already show every invoice.
  const issue = Math.min(issueSeconds ?? Infinity, at.issued as number);
  const settled = Math.max(at.issued!, at.posted!, at.crm!, issue);
  const renewalsPerSecond = round(renewals / settled, 1);
  return {
    renewals,
    issueSeconds: round(issue, 1),
    postedSeconds: round(at.posted!, 1),
    crmSeconds: round(at.crm!, 1),
    settledSeconds: round(settled, 1),
    acknowledgedSeconds: at.acknowledged === undefined ? null : round(at.acknowledged, 1),
    renewalsPerSecond,
    issuedPerSecond: round(renewals / issue, 1),
    overTarget: round(renewalsPerSecond / BILLING_RUN_TARGET_PER_SECOND, 3),
    cpuMsPerRenewal,
    peakRssMiB: Object.fromEntries([...peak].map(([group, mib]) => [group, Math.round(mib)])),
    contractValueChecked: false,
    notes,
  };
}

/** The customers' contract values add up to every line's (a renewal keeps seats and price). */
async function contractValueHolds(run: SqlRunner): Promise<boolean> {
  const [row] = await run<{ lines: string; customers: string }>(`select
      (select sum(seats * unit_price_minor * 12) from ${BILLING}.subscription where status = 'ACTIVE') as lines,
      (select sum(contract_value_minor) from ${CRM}.customer) as customers`);
  return row !== undefined && row.lines !== null && String(row.lines) === String(row.customers);
}

/**
 * POSTs a GraphQL request and waits for the answer as long as it takes: `fetch` gives up on a
 * response's headers after 300 s, shorter than a billing run of 10^5 subscriptions may take.
 */
function postLong(url: string, token: string, body: unknown): Promise<unknown> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const queryRunner =
  (query: (text: string) => Promise<{ rows: unknown[] }>): SqlRunner =>
  async <R>(text: string) =>
    (await query(text)).rows as R[];

/**
 * The billing run on the one-process stack: PGlite in memory, or a fresh database of `serverUrl`
 * with the in-database bus (no NATS).
 */
async function runEmbedded(options: {
  renewals: number;
  serverUrl: string | null;
  log: (line: string) => void;
}): Promise<BillingRunReport> {
  const name = `c2c_bench_billing_${randomBytes(4).toString('hex')}`;
  let database: Database;
  let store: string;
  if (options.serverUrl) {
    const admin = new pg.Client({ connectionString: options.serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(options.serverUrl);
    url.pathname = `/${name}`;
    database = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 8 });
    store = 'PostgreSQL, one-process stack (in-database bus)';
  } else {
    database = await openDatabase({ kind: 'pglite', dataDir: null });
    store = 'embedded (PGlite in memory, one-process stack)';
  }
  try {
    const stack = await startBenchStack({
      database,
      clock: { now: () => new Date() },
      gateway: {
        rateLimit: { costPerMinute: 1_000_000_000, burst: 1_000_000_000 },
        subgraphMutationTimeoutMs: 4 * 3_600_000,
      },
    });
    try {
      const run = queryRunner((text) => sql.raw(text).execute(database.db) as Promise<{ rows: unknown[] }>);
      const today = todayUtc();
      const { customers, seedSeconds } = await seedTimed(run, options, today);
      const classify = (commandLine: string, pid: number): string | null => {
        if (pid === process.pid) return 'stack (gateway, subgraphs, consumers, bench)';
        if (options.serverUrl && new RegExp(`^postgres: [^:]*: \\S+ ${name} `).test(commandLine))
          return 'PostgreSQL';
        return null;
      };
      const measured = await measureRun({
        gatewayUrl: stack.gatewayUrl,
        token: await stack.token('finance'),
        run,
        renewals: options.renewals,
        today,
        classify,
        memoryGroups: (group) => group !== 'PostgreSQL',
        log: options.log,
      });
      return {
        store,
        customers,
        seedSeconds,
        ...measured,
        contractValueChecked: await contractValueHolds(run),
      };
    } finally {
      await stack.stop();
    }
  } finally {
    await database.close();
    if (options.serverUrl) {
      const admin = new pg.Client({ connectionString: options.serverUrl });
      await admin.connect();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }
}

/** The billing run on `npm run start:cluster`'s processes (as the writes section runs them). */
async function runCluster(options: {
  renewals: number;
  serverUrl: string;
  natsUrl: string;
  log: (line: string) => void;
}): Promise<BillingRunReport> {
  const { mintDevToken } = await import('@c2c/platform/auth');
  return withBenchCluster(
    {
      serverUrl: options.serverUrl,
      natsUrl: options.natsUrl,
      section: 'billing',
      benchLabel: 'bench (poller, proxies)',
      // The run of 10^5 subscriptions is one mutation: the gateway waits for it as long as it may.
      gatewayEnv: {
        SUBGRAPH_MUTATION_TIMEOUT_MS: '600000',
        RATE_LIMIT_COST_PER_MINUTE: '1000000000',
        RATE_LIMIT_BURST: '1000000000',
      },
      log: options.log,
    },
    async ({ cluster, pool, dataDir, replicas, classify }) => {
      const run = queryRunner((text) => pool.query(text));
      const today = todayUtc();
      const { customers, seedSeconds } = await seedTimed(run, options, today);
      const measured = await measureRun({
        gatewayUrl: cluster.gatewayUrl,
        token: await mintDevToken(dataDir, { role: 'finance', subject: 'bench-billing-run' }),
        run,
        renewals: options.renewals,
        today,
        classify,
        memoryGroups: (group) => ['gateway', 'customer', 'subscription', 'finance'].includes(group),
        log: options.log,
      });
      return {
        store: `PostgreSQL + NATS JetStream (cluster, ${replicas} replicas of each service)`,
        customers,
        seedSeconds,
        ...measured,
        contractValueChecked: await contractValueHolds(run),
      };
    },
  );
}

/**
 * The `billing` section: on PostgreSQL + NATS (`serverUrl` and `natsUrl`) the cluster, else the
 * one-process stack.
 */
export async function runBillingRun(options: {
  quick: boolean;
  serverUrl: string | null;
  natsUrl: string | null;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
}): Promise<BillingRunReport> {
  const cluster = Boolean(options.serverUrl && options.natsUrl);
  const renewals = billingRenewals(options.quick, options.env, cluster);
  options.log(`billing: the billing run renewing ${renewals} subscriptions end to end…`);
  if (cluster)
    return runCluster({
      renewals,
      serverUrl: options.serverUrl!,
      natsUrl: options.natsUrl!,
      log: options.log,
    });
  return runEmbedded({ renewals, serverUrl: options.serverUrl, log: options.log });
}

/** The section's lines in the human report. */
export function billingRunLines(report: BillingRunReport): string[] {
  const rows: [string, string | number | null][] = [
    ['renewals (customers)', `${report.renewals} (${report.customers})`],
    ['seed (bulk SQL, not measured), s', report.seedSeconds],
    ['mutation → issued (the run committed), s', report.issueSeconds],
    ['mutation → posted in the ERP, s', report.postedSeconds],
    ['mutation → CRM contract values, s', report.crmSeconds],
    ['mutation → settled end to end, s', report.settledSeconds],
    ['mutation → amendments COMPLETED in billing, s', report.acknowledgedSeconds],
    ['renewals/s issued', report.issuedPerSecond],
    ['renewals/s end to end', report.renewalsPerSecond],
    [`÷ ${BILLING_RUN_TARGET_PER_SECOND}/s target`, report.overTarget],
    ...Object.entries(report.cpuMsPerRenewal).map(
      ([part, ms]) => [`CPU ms per renewal: ${part}`, ms] as [string, number],
    ),
    ...Object.entries(report.peakRssMiB).map(
      ([part, mib]) => [`peak RSS MiB: ${part}`, mib] as [string, number],
    ),
    ['contract values add up after the run', report.contractValueChecked ? 'yes' : 'NO'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `Billing run at scale (${report.store})`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v ?? '—'}`),
    ...report.notes.map((note) => `  note: ${note}`),
  ];
}
