import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { subgraphOfSystem } from '@c2c/schema/subgraphs';
import type { StoreSpec } from './child-runtime.ts';
import { memoryMiB, ROOT, sleep, spawnChild, tsxCommand, type BenchChild } from './processes.ts';
import { round, slope } from './report.ts';
import { dropScratch, scratchStore } from './store.ts';
import { ourGatewayEnv, secretsEnv } from './security.ts';
import { benchToken } from './token.ts';

// The systems' schemas, from the ownership rules (rover.yaml names the subgraphs; nothing here does).
const CRM = subgraphOfSystem('CRM');
const BILLING = subgraphOfSystem('billing');
const ERP = subgraphOfSystem('ERP');

export interface ReconciliationRun {
  invoices: number;
  /** Generating the book with SQL (not part of the reconciliation). */
  generateSeconds: number;
  seconds: number;
  differencesFound: number;
  differencesPlanted: number;
  /** Peak resident memory (VmHWM, sampled) of each process of the reconciliation. */
  peakMiB: { client: number; gateway: number; subgraphs: number; total: number };
}

export interface SoakReport {
  minutes: number;
  requests: number;
  rssMiB: { start: number; end: number; max: number };
  /** Least-squares slope of the gateway's RSS over the soak. */
  slopeMiBPerMinute: number | null;
  samples: { minute: number; rssMiB: number }[];
}

const CUSTOMERS = 1000;
/** Documents the bench breaks on purpose, so reconciliation drills down as it would in practice. */
const PLANTED = { unposted: 3, mismatched: 2 };

/** A synthetic book of `invoices` invoices, all posted in the ERP, written with SQL into a fresh store. */
function bookSql(invoices: number): string[] {
  const markets = `(values (0,'NA-SMB','USD','US'),(1,'NA-ENTERPRISE','USD','US'),(2,'NA-ENTERPRISE','CAD','CA'),
    (3,'EMEA-SMB','EUR','DE'),(4,'EMEA-ENTERPRISE','GBP','GB'),(5,'EMEA-ENTERPRISE','EUR','NL'),(6,'APAC','JPY','JP'),
    (7,'APAC','AUD','AU')) as m(k, bu, cur, country)`;
  const uuid = (prefix: string, n: string) => `('${prefix}' || lpad(to_hex(${n}), 12, '0'))::uuid`;
  return [
    `insert into ${BILLING}.plan (code, name, billing_period, unit_price_minor, currency, min_seats, max_seats)
      select 'BENCH-' || cur, 'Bench ' || cur, 'MONTH', 2900, cur, 1, 100000 from ${markets} group by cur`,
    `insert into ${CRM}.customer (id, name, email, status, business_unit, country, contract_value_minor, contract_currency)
      select ${uuid('00000000-0000-4000-8000-', 'g')}, 'Bench customer ' || g, 'ap@bench.example', 'ACTIVE', m.bu, m.country,
        10 * 2900 * 12, m.cur
      from generate_series(1, ${CUSTOMERS}) g join ${markets} on m.k = g % 8`,
    `insert into ${BILLING}.subscription (id, customer_id, plan_code, billing_period, unit_price_minor, currency, status,
        seats, start_date, current_period_start, current_period_end)
      select ${uuid('00000000-0000-4000-9000-', 'g')}, ${uuid('00000000-0000-4000-8000-', 'g')}, 'BENCH-' || m.cur,
        'MONTH', 2900, m.cur, 'ACTIVE', 10, date '2024-01-01', date '2025-12-01', date '2026-01-01'
      from generate_series(1, ${CUSTOMERS}) g join ${markets} on m.k = g % 8`,
    `insert into ${BILLING}.invoice (id, number, kind, status, customer_id, subscription_id, business_unit, currency,
        issued_on, due_on, subtotal_minor, tax_minor, total_minor, posting_status, posted_at, created_at)
      select ${uuid('00000000-0000-4000-a000-', 'i')}, 'INV-B' || lpad(i::text, 8, '0'), 'INVOICE', 'OPEN',
        ${uuid('00000000-0000-4000-8000-', 's')}, ${uuid('00000000-0000-4000-9000-', 's')}, m.bu, m.cur,
        date '2024-01-01' + (i % 730), date '2024-01-31' + (i % 730), 29000, 2900, 31900,
        case when i <= ${PLANTED.unposted} then 'PENDING' else 'POSTED' end, now() - interval '1 day', now() - interval '2 days'
      from (select i, 1 + i % ${CUSTOMERS} as s from generate_series(1, ${invoices}) i) x join ${markets} on m.k = x.s % 8`,
    `insert into ${ERP}.receivable (invoice_id, number, kind, customer_id, subscription_id, business_unit, currency,
        issued_on, due_on, subtotal_minor, tax_minor, total_minor, amount_due_minor, posting_status, posted_at, created_at)
      select id, number, kind, customer_id, subscription_id, business_unit, currency, issued_on, due_on, subtotal_minor,
        tax_minor, case when seq <= ${PLANTED.unposted + PLANTED.mismatched} then total_minor + 1 else total_minor end,
        0, 'POSTED', posted_at, created_at
      from ${BILLING}.invoice where seq > ${PLANTED.unposted}`,
    'analyze',
  ];
}

/** Runs `npm run c2c -- reconcile --json` as its own process, sampling its peak memory. */
async function reconcileProcess(
  gatewayUrl: string,
  watch: BenchChild[],
): Promise<{ report: { differences: number; seconds: number }; peak: number[] }> {
  const token = await benchToken('finance');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'cli', 'c2c.ts'),
      'reconcile',
      '--json',
      '--url',
      gatewayUrl,
      '--token',
      token,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const peak = [0, ...watch.map(() => 0)];
  let done = false;
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      done = true;
      resolve(code);
    }),
  );
  while (!done) {
    peak[0] = Math.max(peak[0] as number, memoryMiB(child.pid as number).peak);
    watch.forEach((w, i) => (peak[i + 1] = Math.max(peak[i + 1] as number, memoryMiB(w.pid).peak)));
    await sleep(100);
  }
  const code = await exit;
  // Exit 1 means differences found, which the planted ones guarantee.
  if (code !== 0 && code !== 1) throw new Error(`reconcile exited ${code}: ${stderr.slice(-800)}`);
  const start = stdout.indexOf('{');
  return { report: JSON.parse(stdout.slice(start)) as { differences: number; seconds: number }, peak };
}

async function stackOn(store: StoreSpec): Promise<{ subgraphs: BenchChild; gateway: BenchChild }> {
  const subgraphs = await spawnChild({
    name: 'subgraphs',
    core: 1,
    command: tsxCommand('subgraphs.child.ts'),
    env: { BENCH_STORE: JSON.stringify(store), BENCH_EVENTS: 'false', ...secretsEnv() },
    ready: { ipc: true },
    timeoutMs: 300_000,
  });
  const urls = JSON.parse(subgraphs.url) as Record<string, string>;
  try {
    const gateway = await spawnChild({
      name: 'our gateway',
      core: 0,
      command: tsxCommand('ours.child.ts'),
      env: await ourGatewayEnv(urls),
      ready: { ipc: true },
    });
    return { subgraphs, gateway };
  } catch (error) {
    await subgraphs.stop();
    throw error;
  }
}

export async function runReconciliation(
  invoices: number,
  serverUrl: string | null,
  log: (line: string) => void,
): Promise<ReconciliationRun> {
  log(`scale: reconciliation of ${invoices.toLocaleString('en')} invoices…`);
  const store = await scratchStore(`scale_${invoices}`, serverUrl);
  try {
    // Generate with one process, then reconcile on a fresh stack: the peaks are the reconciliation's.
    const generator = await spawnChild({
      name: 'book generator',
      core: 1,
      command: tsxCommand('subgraphs.child.ts'),
      env: { BENCH_STORE: JSON.stringify(store), BENCH_EVENTS: 'false', ...secretsEnv() },
      ready: { ipc: true },
    });
    const generating = Date.now();
    try {
      for (const statement of bookSql(invoices)) await generator.request({ type: 'sql', text: statement });
    } finally {
      await generator.stop();
    }
    const generateSeconds = (Date.now() - generating) / 1000;
    const { subgraphs, gateway } = await stackOn(store);
    try {
      const { report, peak } = await reconcileProcess(gateway.url, [gateway, subgraphs]);
      const [client = 0, gw = 0, sub = 0] = peak;
      return {
        invoices,
        generateSeconds: round(generateSeconds, 1),
        seconds: round(report.seconds, 2),
        differencesFound: report.differences,
        differencesPlanted: PLANTED.unposted + PLANTED.mismatched,
        peakMiB: {
          client: round(client, 0),
          gateway: round(gw, 0),
          subgraphs: round(sub, 0),
          total: round(client + gw + sub, 0),
        },
      };
    } finally {
      await gateway.stop();
      await subgraphs.stop();
    }
  } finally {
    await dropScratch(store, serverUrl);
  }
}

/** Our gateway under steady CustomerToCash load for `minutes`, its RSS sampled every 30 s. */
export async function runSoak(
  store: StoreSpec,
  minutes: number,
  log: (line: string) => void,
): Promise<SoakReport> {
  log(`scale: gateway soak for ${minutes} min…`);
  const { default: autocannon } = await import('autocannon');
  const { operation } = await import('@c2c/schema/operations');
  const { subgraphs, gateway } = await stackOn(store);
  try {
    const { rows } = await subgraphs.request<{ rows: { id: string }[] }>({
      type: 'sql',
      text: `select id from ${CRM}.customer order by id`,
    });
    const query = operation('portal.CustomerToCash');
    const bodies = rows.map((r) => JSON.stringify({ query, variables: { customerId: r.id } }));
    let next = 0;
    const samples: { minute: number; rssMiB: number }[] = [];
    const started = Date.now();
    const sample = () =>
      samples.push({
        minute: round((Date.now() - started) / 60_000, 2),
        rssMiB: round(memoryMiB(gateway.pid).rss, 1),
      });
    sample();
    const timer = setInterval(sample, 30_000);
    const result = await autocannon({
      url: gateway.url,
      connections: 4,
      duration: minutes * 60,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await benchToken('portal')}` },
      requests: [
        { method: 'POST', setupRequest: (r) => ({ ...r, body: bodies[next++ % bodies.length] as string }) },
      ],
    });
    clearInterval(timer);
    sample();
    const rss = samples.map((s) => s.rssMiB);
    const perMinute = slope(samples.map((s) => ({ x: s.minute, y: s.rssMiB })));
    return {
      minutes,
      requests: result.requests.total,
      rssMiB: { start: rss[0] ?? 0, end: rss.at(-1) ?? 0, max: Math.max(...rss) },
      slopeMiBPerMinute: perMinute === null ? null : round(perMinute, 2),
      samples,
    };
  } finally {
    await gateway.stop();
    await subgraphs.stop();
  }
}
