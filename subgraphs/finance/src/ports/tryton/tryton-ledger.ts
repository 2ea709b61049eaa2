import { randomUUID } from 'node:crypto';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
} from 'cockatiel';
import { v5 as uuidv5 } from 'uuid';
import { DomainError, formatMinor, parseDecimal, type Logger } from '@c2c/platform/core';
import type { AnyDb, AnyTransaction } from '@c2c/platform/db';
import {
  findCrosswalk,
  insertCrosswalk,
  knownErpIds,
  leaseCursor,
  releaseCursor,
  writeCursor,
} from '../../data/crosswalk.repository.ts';
import { scoped } from '../../data/tables.ts';
import { BuiltinLedger } from '../builtin/builtin-ledger.ts';
import type {
  BillingDocument,
  ExternalPayment,
  ExternalPosting,
  LedgerChanges,
  LedgerPayment,
  LedgerPort,
} from '../ledger.port.ts';
import { TrytonClient, TrytonError, date, decimal, type TrytonDate, type TrytonDecimal } from './client.ts';
import { acceptedPostWarnings, ensureCustomer, payInvoice, postInvoice } from './invoices.ts';
import { prepareTryton, xmlId, type TrytonSetup } from './setup.ts';

export interface TrytonLedgerOptions {
  /** `http://USER:PASSWORD@HOST:PORT/DATABASE`. */
  url: string;
  /** The company Tryton keeps the books of (found, or created by `c2c erp setup`). */
  companyName: string;
  currency: 'USD' | 'EUR';
  /** Per HTTP call (default 15 s). */
  timeoutMs?: number;
  /** Calls in flight at once (default 4); more wait in a queue of 100. */
  concurrency?: number;
  /** Consecutive failures that open the circuit (default 5); it half-opens after `breakerOpenMs` (10 s). */
  breakerFailures?: number;
  breakerOpenMs?: number;
  /** Attempts per call for transient failures (default 3), with exponential backoff. */
  attempts?: number;
  /** Today, for the fiscal year prepared at start. */
  now?: () => Date;
  /** How often change capture reads Tryton's changed invoices (default 5 s; 0: off). */
  pollMs?: number;
}

const CURSOR = 'customer-invoices';

interface Watch {
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  stopped: boolean;
}
/** Invoices read per change-capture round. */
const PAGE = 200;

/** Our code for a Tryton failure: unreachable or open circuit → ERP_UNAVAILABLE, refusal → ERP_REFUSED. */
export function erpErrorCode(
  error: unknown,
): 'ERP_UNAVAILABLE' | 'ERP_AUTH' | 'ERP_REFUSED' | 'ERP_PROTOCOL' {
  if (error instanceof BrokenCircuitError || error instanceof BulkheadRejectedError) return 'ERP_UNAVAILABLE';
  if (!(error instanceof TrytonError)) return 'ERP_PROTOCOL';
  if (error.code === 'TRYTON_UNREACHABLE' || error.retryable) return 'ERP_UNAVAILABLE';
  if (error.code === 'TRYTON_AUTH') return 'ERP_AUTH';
  if (error.code === 'TRYTON_REFUSED') return 'ERP_REFUSED';
  return 'ERP_PROTOCOL';
}

/** An error whose message starts with our code and carries Tryton's own words. */
export class ErpError extends Error {
  override readonly name = 'ErpError';
  constructor(
    readonly code: ReturnType<typeof erpErrorCode>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

function asErpError(error: unknown, what: string): ErpError {
  if (error instanceof ErpError) return error;
  const code = erpErrorCode(error);
  const detail =
    error instanceof TrytonError
      ? (error.details.trytonMessage ?? error.message) +
        (error.details.description ? ` (${error.details.description})` : '')
      : error instanceof BrokenCircuitError
        ? 'Tryton failed repeatedly; calls are suspended for a few seconds (circuit open)'
        : error instanceof Error
          ? error.message
          : String(error);
  return new ErpError(code, `Tryton ${what}: ${detail}`, { cause: error });
}

/** The namespace of our ids for payments seen in an ERP (uuid v5 of the ERP's record). */
const ERP_PAYMENT_IDS = '8d2f4b6a-1c3e-4f5a-9b7d-0e2c4a6f8b1d';

function parseCursor(text: string | null): { at: Date; id: number } | null {
  if (!text) return null;
  const parsed = JSON.parse(text) as { at: string; id: number };
  return { at: new Date(parsed.at), id: parsed.id };
}

const ppmLabel = (ppm: number) => `${(ppm / 10_000).toFixed(4).replace(/\.?0+$/, '')} %`;

/**
 * The ERP port on Tryton (JSON-RPC): customers are parties (code = our customer id), billing's
 * documents customer invoices (reference = our document id, lines at their exact amounts, our tax
 * as manual tax lines so totals match to the cent), payments the `account.invoice.pay` wizard
 * (its move's description = our payment id). Every call goes through one policy: a retry with backoff for
 * transient failures, a circuit breaker, a concurrency limit.
 *
 * What Tryton does not keep for us — the daily revenue schedule, the journal the supergraph reads —
 * the finance subgraph keeps itself (the built-in ledger's tables, as a mirror).
 */
export class TrytonLedger implements LedgerPort {
  readonly system = 'tryton';
  readonly external = true;
  private readonly client: TrytonClient;
  private readonly mirror = new BuiltinLedger();
  private readonly policy;
  private readonly setups = new Map<number, Promise<TrytonSetup>>();
  /** Party and invoice address per customer id: found or made once per process (ids do not change). */
  private readonly parties = new Map<string, { partyId: number; addressId: number }>();
  private journal: Promise<number> | null = null;

  private async party(customerId: string, name: string): Promise<{ partyId: number; addressId: number }> {
    const known = this.parties.get(customerId);
    if (known) return known;
    const { partyId } = await ensureCustomer(this.client, { id: customerId, name });
    const [party] = await this.client.call<Array<{ addresses?: number[] }>>('party.party', 'read', [
      [partyId],
      ['addresses'],
    ]);
    const addressId = party?.addresses?.[0];
    if (addressId === undefined)
      throw new TrytonError('TRYTON_REFUSED', `Tryton's party ${customerId} has no address to invoice`);
    const found = { partyId, addressId };
    this.parties.set(customerId, found);
    return found;
  }

  constructor(
    private readonly db: AnyDb,
    private readonly options: TrytonLedgerOptions,
    private readonly log: Logger,
  ) {
    this.client = new TrytonClient(options.url, { timeoutMs: options.timeoutMs ?? 15_000 });
    const transient = handleWhen((error) => error instanceof TrytonError && error.retryable);
    const breaker = circuitBreaker(transient, {
      halfOpenAfter: options.breakerOpenMs ?? 10_000,
      breaker: new ConsecutiveBreaker(options.breakerFailures ?? 5),
    });
    breaker.onStateChange((state) => log.warn({ state: CircuitState[state] }, 'Tryton circuit breaker'));
    this.policy = wrap(
      bulkhead(options.concurrency ?? 4, 100),
      retry(transient, {
        maxAttempts: (options.attempts ?? 3) - 1,
        backoff: new ExponentialBackoff({ initialDelay: 200, maxDelay: 2_000 }),
      }),
      breaker,
    );
  }

  /** Where the adapter points, for messages (never the password). */
  get display(): string {
    return this.client.config.display;
  }

  private call<T>(what: string, work: () => Promise<T>): Promise<T> {
    return this.policy.execute(work).catch((error: unknown) => {
      throw asErpError(error, what);
    });
  }

  /** Company, accounts, fiscal year and periods of `year`, found (or made) once per process. */
  private setup(year: number): Promise<TrytonSetup> {
    let setup = this.setups.get(year);
    if (!setup) {
      setup = prepareTryton(this.client, {
        companyName: this.options.companyName,
        currency: this.options.currency,
        fiscalYear: year,
        taxes: [],
      });
      setup.catch(() => this.setups.delete(year));
      this.setups.set(year, setup);
    }
    return setup;
  }

  async connect(log: Logger): Promise<void> {
    const year = (this.options.now?.() ?? new Date()).getUTCFullYear();
    try {
      await this.client.login();
      await this.setup(year);
    } catch (error) {
      const e = asErpError(error, `at ${this.display}`);
      throw new Error(
        e.code === 'ERP_AUTH'
          ? `ERP_ADAPTER=tryton: Tryton refused the login for ${this.display}: check the user and password in TRYTON_URL`
          : e.code === 'ERP_UNAVAILABLE'
            ? `ERP_ADAPTER=tryton: Tryton does not answer at ${this.display}: is it running (scripts/tryton/server.sh)?`
            : `ERP_ADAPTER=tryton: Tryton at ${this.display} is not ready for us: ${e.message}`,
        { cause: error },
      );
    }
    log.info({ tryton: this.display, year }, 'ERP adapter tryton connected');
  }

  async publishDocument(doc: BillingDocument, log: Logger): Promise<ExternalPosting> {
    if (doc.currency !== this.options.currency) {
      throw new ErpError(
        'ERP_REFUSED',
        `Tryton keeps the books in ${this.options.currency}; ${doc.kind} ${doc.number} is in ${doc.currency}`,
      );
    }
    const customer = await scoped(this.db)
      .selectFrom('customer_master')
      .select(['id', 'name'])
      .where('id', '=', doc.customerId)
      .executeTakeFirst();
    const setup = await this.call('setup', () => this.setup(Number(doc.issuedOn.slice(0, 4))));
    const invoice = await this.call(`posting ${doc.kind} ${doc.number}`, async () => {
      const found = await this.findInvoice(setup, doc.id);
      if (found !== null) return postInvoice(this.client, found); // posts a draft a crash left; reads either way
      const created = await this.createInvoice(setup, doc, customer?.name ?? `Customer ${doc.customerId}`);
      await this.client.callAcceptingWarnings('account.invoice', 'post', [[created]], acceptedPostWarnings);
      return this.postedInvoice(created);
    });
    if (invoice.totalAmount !== formatMinor(doc.totalMinor, doc.currency)) {
      // Never happens while lines and manual taxes are ours; if it does, the books disagree: stop.
      throw new ErpError(
        'ERP_REFUSED',
        `Tryton's invoice ${invoice.number} totals ${invoice.totalAmount}, billing's ${doc.number} ${formatMinor(doc.totalMinor, doc.currency)}`,
      );
    }
    log.info(
      { invoiceId: doc.id, trytonInvoice: invoice.id, trytonNumber: invoice.number },
      'posted in Tryton',
    );
    return {
      erpId: String(invoice.id),
      erpNumber: invoice.number,
      erpEntryId: invoice.moveId === null ? null : String(invoice.moveId),
    };
  }

  /** What posting needs back from a just-posted invoice: its number, move and total (one read). */
  private async postedInvoice(
    id: number,
  ): Promise<{ id: number; number: string | null; moveId: number | null; totalAmount: string }> {
    const [row] = await this.client.call<
      Array<{ number: string | null; move: number | null; total_amount: TrytonDecimal; state: string }>
    >('account.invoice', 'read', [[id], ['number', 'move', 'total_amount', 'state']]);
    if (!row || (row.state !== 'posted' && row.state !== 'paid'))
      throw new TrytonError(
        'TRYTON_PROTOCOL',
        `Tryton's invoice ${id} is ${row?.state ?? 'gone'} after posting`,
      );
    const [whole, fraction = ''] = row.total_amount.value.split('.');
    return { id, number: row.number, moveId: row.move, totalAmount: `${whole}.${fraction.padEnd(2, '0')}` };
  }

  private async findInvoice(setup: TrytonSetup, reference: string): Promise<number | null> {
    const ids = await this.client.call<number[]>('account.invoice', 'search', [
      [
        ['company', '=', setup.companyId],
        ['type', '=', 'out'],
        ['reference', '=', reference],
      ],
      0,
      2,
      null,
    ]);
    if (ids.length > 1)
      throw new TrytonError(
        'TRYTON_REFUSED',
        `Tryton holds ${ids.length} invoices with reference ${reference}`,
      );
    return ids[0] ?? null;
  }

  /** A draft customer invoice: each line at its exact amount, our tax per rate as manual tax lines. */
  private async createInvoice(
    setup: TrytonSetup,
    doc: BillingDocument,
    customerName: string,
  ): Promise<number> {
    const { partyId, addressId } = await this.party(doc.customerId, customerName);
    this.journal ??= xmlId(this.client, 'account', 'journal_revenue').catch((error: unknown) => {
      this.journal = null;
      throw error;
    });
    const journal = await this.journal;
    const byRate = new Map<number, { base: number; tax: number }>();
    for (const line of doc.lines) {
      const rate = line.taxRatePpm ?? 0;
      const sum = byRate.get(rate) ?? { base: 0, tax: 0 };
      sum.base += line.amountMinor;
      sum.tax += line.taxMinor ?? 0;
      byRate.set(rate, sum);
    }
    const taxTotal = [...byRate.values()].reduce((s, r) => s + r.tax, 0);
    if (taxTotal !== doc.taxMinor)
      throw new TrytonError(
        'TRYTON_REFUSED',
        `the lines' tax of ${doc.number} sums to ${taxTotal}, not ${doc.taxMinor}`,
      );
    const money = (minor: number) => decimal(formatMinor(minor, doc.currency));
    const [invoiceId] = await this.client.call<number[]>('account.invoice', 'create', [
      [
        {
          type: 'out',
          company: setup.companyId,
          currency: setup.currencyId,
          party: partyId,
          invoice_address: addressId,
          account: setup.accounts.receivable,
          journal,
          payment_term: setup.paymentTermId,
          invoice_date: date(doc.issuedOn),
          reference: doc.id,
          description: `${doc.kind === 'INVOICE' ? 'Invoice' : 'Credit note'} ${doc.number}`,
          lines: [
            [
              'create',
              doc.lines.map((line) => ({
                type: 'line',
                company: setup.companyId,
                currency: setup.currencyId,
                description: `${line.description ?? 'Line'} [${line.periodStart} – ${line.periodEnd}]`,
                quantity: 1,
                unit_price: money(line.amountMinor),
                account: setup.accounts.revenue,
              })),
            ],
          ],
          taxes: [
            [
              'create',
              [...byRate.entries()]
                .filter(([, sum]) => sum.tax !== 0)
                .map(([ppm, sum]) => ({
                  description: `Tax ${ppmLabel(ppm)}`,
                  account: setup.accounts.tax,
                  base: money(sum.base),
                  amount: money(sum.tax),
                  manual: true,
                })),
            ],
          ],
        },
      ],
    ]);
    if (typeof invoiceId !== 'number')
      throw new TrytonError('TRYTON_PROTOCOL', 'account.invoice.create answered no id');
    return invoiceId;
  }

  async recordDocument(
    trx: AnyTransaction,
    doc: BillingDocument,
    external: ExternalPosting | null,
  ): Promise<string> {
    if (!external) throw new Error(`${doc.number}: the Tryton ledger records only documents it published`);
    await insertCrosswalk(trx, {
      system: this.system,
      kind: doc.kind,
      our_id: doc.id,
      erp_id: external.erpId,
      erp_number: external.erpNumber,
      erp_entry_id: external.erpEntryId,
    });
    return this.mirror.recordDocument(trx, doc);
  }

  async applyPayment(trx: AnyTransaction, payment: LedgerPayment, log: Logger): Promise<string> {
    const [invoice] = await findCrosswalk(trx, this.system, [payment.invoiceId]);
    if (!invoice) {
      throw new DomainError(
        'ERP_REFUSED',
        `invoice ${payment.invoiceNumber} is not in Tryton (it was posted before the ERP adapter was tryton)`,
        'invoiceId',
      );
    }
    const trytonInvoiceId = Number(invoice.erp_id);
    const paid = await this.call(`paying ${payment.invoiceNumber}`, async () => {
      const setup = await this.setup(Number(payment.receivedOn.slice(0, 4)));
      // The pay wizard writes our payment id as the payment move's description.
      const findMove = () =>
        this.client.call<number[]>('account.move', 'search', [
          [['description', '=', payment.id]],
          0,
          1,
          null,
        ]);
      const earlier = await findMove();
      if (earlier.length > 0) return { moveId: earlier[0]!, again: true };
      await payInvoice(this.client, setup, trytonInvoiceId, {
        amount: formatMinor(payment.amountMinor, payment.currency),
        date: payment.receivedOn,
        description: payment.id,
      });
      const made = await findMove();
      if (made.length === 0)
        throw new TrytonError(
          'TRYTON_PROTOCOL',
          `Tryton's pay wizard left no move for payment ${payment.id}`,
        );
      return { moveId: made[0]!, again: false };
    }).catch((error: unknown) => {
      const e = asErpError(error, `paying ${payment.invoiceNumber}`);
      throw new DomainError(e.code, e.message.replace(/^[A-Z_]+: /, ''), 'invoiceId');
    });
    log.info(
      { paymentId: payment.id, trytonMove: paid.moveId, again: paid.again },
      'payment applied in Tryton',
    );
    await insertCrosswalk(trx, {
      system: this.system,
      kind: 'PAYMENT',
      our_id: payment.id,
      erp_id: String(paid.moveId),
      erp_number: null,
      erp_entry_id: String(paid.moveId),
    });
    return this.mirror.applyPayment(trx, payment);
  }

  /** Our documents Tryton has posted (posted or paid), among `ourIds`: one search_read per 500. */
  private async postedInvoices(
    ourIds: readonly string[],
    what: string,
  ): Promise<Array<{ reference: string; total_amount: TrytonDecimal; amount_to_pay: TrytonDecimal }>> {
    if (ourIds.length === 0) return [];
    const setup = await this.call('setup', () =>
      this.setup((this.options.now?.() ?? new Date()).getUTCFullYear()),
    );
    const found: Array<{ reference: string; total_amount: TrytonDecimal; amount_to_pay: TrytonDecimal }> = [];
    for (let i = 0; i < ourIds.length; i += 500) {
      const batch = ourIds.slice(i, i + 500);
      const rows = await this.call(what, () =>
        this.client.call<typeof found>('account.invoice', 'search_read', [
          [
            ['company', '=', setup.companyId],
            ['type', '=', 'out'],
            ['state', 'in', ['posted', 'paid']],
            ['reference', 'in', batch],
          ],
          0,
          null,
          null,
          ['reference', 'total_amount', 'amount_to_pay'],
        ]),
      );
      found.push(...rows);
    }
    return found;
  }

  async postedTotals(ourIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.postedInvoices(ourIds, 'reading invoices for reconciliation');
    return new Map(
      rows.map((row) => [row.reference, parseDecimal(row.total_amount.value, this.options.currency, null)]),
    );
  }

  async amountsToPay(ourIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.postedInvoices(ourIds, 'reading amounts to pay');
    return new Map(
      rows.map((row) => [row.reference, parseDecimal(row.amount_to_pay.value, this.options.currency, null)]),
    );
  }

  async recordExternalPayment(trx: AnyTransaction, payment: ExternalPayment): Promise<string | null> {
    const fresh = await insertCrosswalk(trx, {
      system: this.system,
      kind: 'PAYMENT',
      our_id: payment.id,
      erp_id: payment.erpId,
      erp_number: null,
      erp_entry_id: payment.erpId,
    });
    return fresh ? this.mirror.applyPayment(trx, payment) : null;
  }

  private watching: Watch | null = null;
  /** This process, as a change-capture lease owner. */
  private readonly replica = randomUUID();

  /**
   * Change capture: every `pollMs`, reads the customer invoices Tryton changed since the durable
   * cursor (`erp_cursor`), and hands each payment on them that we did not make (not in the
   * crosswalk) to `changes.paymentSeen` — an accountant's payment in Tryton becomes a payment
   * here and `payment.applied` for billing. One replica reads at a time (an advisory lock).
   */
  watch(changes: LedgerChanges, log: Logger): void {
    const pollMs = this.options.pollMs ?? 5_000;
    if (pollMs <= 0 || this.watching) return;
    const state: Watch = { timer: null, running: null, stopped: false };
    this.watching = state;
    const tick = () => {
      if (state.stopped) return;
      state.running = this.captureChanges(changes, log)
        .then((seen) => {
          if (seen > 0) log.info({ seen }, 'Tryton changes applied');
        })
        .catch((error: unknown) => log.warn({ err: error }, 'Tryton change capture failed; retrying'))
        .finally(() => {
          state.running = null;
          if (!state.stopped) state.timer = setTimeout(tick, pollMs);
        });
    };
    state.timer = setTimeout(tick, pollMs);
  }

  /** One round of change capture; the number of payments applied. Exposed for tests and the console. */
  async captureChanges(changes: LedgerChanges, log: Logger): Promise<number> {
    const lease = await leaseCursor(this.db, this.system, CURSOR, this.replica, 120);
    if (!lease) return 0;
    try {
      return await this.readChanges(parseCursor(lease.position), changes, log);
    } finally {
      await releaseCursor(this.db, this.system, CURSOR, this.replica);
    }
  }

  private async readChanges(
    cursor: { at: Date; id: number } | null,
    changes: LedgerChanges,
    log: Logger,
  ): Promise<number> {
    const year = (this.options.now?.() ?? new Date()).getUTCFullYear();
    const setup = await this.call('setup', () => this.setup(year));
    type InvoiceRow = {
      id: number;
      reference: string | null;
      write_date: Date | null;
      create_date: Date;
      payment_lines: number[];
    };
    const rows = await this.call('reading changed invoices', () =>
      this.client.call<InvoiceRow[]>('account.invoice', 'search_read', [
        [
          ['company', '=', setup.companyId],
          ['type', '=', 'out'],
          ['reference', '!=', null],
          ['state', 'in', ['posted', 'paid']],
          ...(cursor ? [['write_date', '>=', cursor.at]] : []),
        ],
        0,
        PAGE,
        [
          ['write_date', 'ASC'],
          ['id', 'ASC'],
        ],
        ['reference', 'write_date', 'create_date', 'payment_lines'],
      ]),
    );
    const changed = rows.filter((r) => {
      if (!cursor) return true;
      const at = (r.write_date ?? r.create_date).getTime();
      return at > cursor.at.getTime() || (at === cursor.at.getTime() && r.id > cursor.id);
    });
    let seen = 0;
    const lineIds = changed.flatMap((r) => r.payment_lines);
    type LineRow = {
      id: number;
      move: number;
      credit: TrytonDecimal;
      debit: TrytonDecimal;
      date: TrytonDate;
    };
    const lines =
      lineIds.length === 0
        ? []
        : await this.call('reading payment lines', () =>
            this.client.call<LineRow[]>('account.move.line', 'read', [
              lineIds,
              ['move', 'credit', 'debit', 'date'],
            ]),
          );
    const byId = new Map(lines.map((l) => [l.id, l]));
    const known = await knownErpIds(
      this.db,
      this.system,
      'PAYMENT',
      lines.map((l) => String(l.move)),
    );
    for (const invoice of changed) {
      for (const lineId of invoice.payment_lines) {
        const line = byId.get(lineId);
        if (!line || known.has(String(line.move)) || !invoice.reference) continue;
        const amountMinor =
          parseDecimal(line.credit.value, this.options.currency, null) -
          parseDecimal(line.debit.value, this.options.currency, null);
        if (amountMinor <= 0) continue;
        const payment: ExternalPayment = {
          id: uuidv5(`tryton-move:${line.move}`, ERP_PAYMENT_IDS),
          erpId: String(line.move),
          invoiceId: invoice.reference,
          invoiceNumber: invoice.reference,
          amountMinor,
          currency: this.options.currency,
          receivedOn: line.date.toString(),
          reference: `Tryton move ${line.move}`,
        };
        const outcome = await changes.paymentSeen(payment);
        if (outcome === 'recorded') seen += 1;
        if (outcome === 'unknown-invoice')
          log.warn(
            { trytonInvoice: invoice.id, reference: invoice.reference },
            'a Tryton payment on an invoice billing did not issue',
          );
      }
    }
    const last = changed.at(-1);
    if (last) {
      const position = JSON.stringify({
        at: (last.write_date ?? last.create_date).toISOString(),
        id: last.id,
      });
      await this.db.transaction().execute((trx) => writeCursor(trx, this.system, CURSOR, position));
    }
    return seen;
  }

  async close(): Promise<void> {
    const state = this.watching;
    if (state) {
      state.stopped = true;
      if (state.timer) clearTimeout(state.timer);
      await state.running;
      this.watching = null;
    }
    await this.client.logout();
  }
}
