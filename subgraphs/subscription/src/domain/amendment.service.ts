import { v7 as uuidv7 } from 'uuid';
import { DomainError, isUuid, parseIsoDate, todayUtc, type IsoDate, type Period } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { appendToOutbox, type NewEvent } from '@c2c/platform/events';
import { runIdempotent } from '@c2c/platform/graphql';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import {
  findLastChangeInPeriod,
  insertAmendment,
  readAmendmentContext,
  type AmendmentRow,
} from '../data/amendment.repository.ts';
import type { BillToRow } from '../data/bill-to.repository.ts';
import type { PlanRow } from '../data/plan.repository.ts';
import type { SubscriptionChange, SubscriptionRow } from '../data/subscription.repository.ts';
import { SCHEMA, type AmendmentKind } from '../data/tables.ts';
import type { InvoiceRow } from '../data/invoice.repository.ts';
import { findTaxRates, type TaxRateRow } from '../data/tax-rate.repository.ts';
import { invoiceIssuedEvent } from '../events/invoice-events.ts';
import { subscriptionEvent, type SubscriptionEventType } from '../events/subscription-events.ts';
import {
  initialSteps,
  validateExpectedVersion,
  validateReason,
  versionConflict,
  workflowStatus,
} from './amendment.rules.ts';
import type { Caller } from './caller.ts';
import type { BillingPort, ProrationRequest } from '../ports/billing.port.ts';
import { firstInvoiceDates, requireRenewableSeats } from './invoice.rules.ts';
import type { ProrationDraft } from './invoicing.ts';
import { placeEffectiveDate } from './proration.ts';
import { requireOnOrAfterLastChange } from './period-timeline.ts';
import { validateSeats } from './subscription.rules.ts';

export interface AmendSubscriptionCommand {
  subscriptionId: string;
  seats: number;
  effectiveDate: string;
  expectedVersion?: number | null;
  idempotencyKey: string;
  reason?: string | null;
}

export interface PreviewAmendmentCommand {
  subscriptionId: string;
  seats: number;
  effectiveDate: string;
}

/** What an amendment would issue: its draft document (null: none) in the subscription's currency. */
export interface AmendmentPreview {
  currency: string;
  draft: ProrationDraft | null;
}

export type CancellationMode = 'AT_PERIOD_END' | 'IMMEDIATELY';

export interface CancelSubscriptionCommand {
  subscriptionId: string;
  mode: CancellationMode;
  effectiveDate?: string | null;
  expectedVersion?: number | null;
  idempotencyKey: string;
  reason?: string | null;
}

export interface AmendmentResult {
  amendmentId: string;
  subscriptionId: string;
  /**
   * The amendment, the subscription and the document as this request left them: the stored
   * response that a replay returns (docs/billing-rules.md §5), never the entities re-read later.
   * Absent from results stored before it existed.
   */
  snapshot?: {
    amendment: AmendmentRow;
    subscription: SubscriptionRow;
    document: InvoiceRow | null;
  };
}

/** Everything one amendment changes, decided from the locked subscription. */
interface AmendmentPlan {
  kind: AmendmentKind;
  effectiveDate: IsoDate;
  scheduled: boolean;
  seatsBefore: number;
  seatsAfter: number;
  change: SubscriptionChange;
  event: SubscriptionEventType;
  /** Seats to prorate over [effectiveDate, end): from → to; null when nothing is prorated. */
  prorate: { from: number; to: number } | null;
}

function subscriptionNotFound(id: string): DomainError {
  return new DomainError('SUBSCRIPTION_NOT_FOUND', `no subscription ${JSON.stringify(id)}`, 'subscriptionId');
}

function currentPeriod(row: SubscriptionRow): Period {
  return { start: row.current_period_start, end: row.current_period_end };
}

/**
 * Amendments and cancellations as managed business transactions (docs/events.md). Each runs in
 * one transaction: lock the subscription, check its version, change it, record the amendment and
 * its workflow steps, issue the proration invoice or credit note, and append the events. An
 * immediate seat increase is six statements (docs/benchmarks.md, "The write path"): every read is
 * one statement with what can be read with it, and every row written as given goes out with the
 * others in one, so `amendment-round-trips.int.test.ts` counts them and fails if they grow.
 */
export class AmendmentService {
  constructor(
    private readonly deps: SubgraphDeps,
    private readonly billing: BillingPort,
  ) {}

  async amendSubscription(command: AmendSubscriptionCommand, who: Caller): Promise<AmendmentResult> {
    const input = {
      subscriptionId: command.subscriptionId,
      seats: validateSeats(command.seats),
      effectiveDate: parseIsoDate(command.effectiveDate, 'effectiveDate'),
      expectedVersion: validateExpectedVersion(command.expectedVersion),
      reason: validateReason(command.reason),
    };
    return this.run(
      'amendSubscription',
      input,
      command.idempotencyKey,
      who,
      (subscription, plan, billTo, lastChange) =>
        decideSeatChange(input, subscription, plan, billTo, lastChange),
    );
  }

  /**
   * What amendSubscription would issue for this input now, computed by the same rules in a
   * transaction that writes nothing (docs/billing-rules.md §6: a preview equals the amendment).
   */
  async previewAmendment(command: PreviewAmendmentCommand): Promise<AmendmentPreview> {
    const input = {
      seats: validateSeats(command.seats),
      effectiveDate: parseIsoDate(command.effectiveDate, 'effectiveDate'),
    };
    if (!isUuid(command.subscriptionId)) throw subscriptionNotFound(command.subscriptionId);
    return this.deps.db.transaction().execute(async (trx) => {
      const [subscription] = await this.billing.subscriptionsByIds(trx, [
        command.subscriptionId.toLowerCase(),
      ]);
      if (!subscription) throw subscriptionNotFound(command.subscriptionId);
      const [billTo] = await this.billing.customersByIds(trx, [subscription.customer_id]);
      const [plan] = await this.billing.plansByCodes(trx, [subscription.plan_code]);
      if (!billTo || !plan)
        throw new Error(`subscription ${subscription.id} misses its bill-to account or plan`);
      const lastChange = await findLastChangeInPeriod(trx, subscription.id, currentPeriod(subscription));
      const decided = decideSeatChange(input, subscription, plan, billTo, lastChange);
      const proration = decided.prorate
        ? this.prorationOf(plan, decided, await findTaxRates(trx, [billTo.country]))
        : null;
      const draft = proration
        ? await this.billing.previewAmendment(trx, { subscription, billTo, proration })
        : null;
      return { currency: subscription.currency, draft };
    });
  }

  async cancelSubscription(command: CancelSubscriptionCommand, who: Caller): Promise<AmendmentResult> {
    if (command.mode !== 'AT_PERIOD_END' && command.mode !== 'IMMEDIATELY') {
      throw new DomainError('INVALID_MODE', 'mode must be AT_PERIOD_END or IMMEDIATELY', 'mode');
    }
    const input = {
      subscriptionId: command.subscriptionId,
      mode: command.mode,
      effectiveDate:
        command.effectiveDate === null || command.effectiveDate === undefined
          ? null
          : parseIsoDate(command.effectiveDate, 'effectiveDate'),
      expectedVersion: validateExpectedVersion(command.expectedVersion),
      reason: validateReason(command.reason),
    };
    // A customer who is no longer ACTIVE may still have subscriptions to end: no customer check here.
    return this.run(
      'cancelSubscription',
      input,
      command.idempotencyKey,
      who,
      (subscription, _plan, _billTo, lastChange) => {
        requireActive(subscription, { allowScheduledEnd: input.mode === 'IMMEDIATELY' });
        const period = currentPeriod(subscription);
        if (input.mode === 'AT_PERIOD_END') {
          if (input.effectiveDate !== null && input.effectiveDate !== period.end) {
            throw new DomainError(
              'EFFECTIVE_DATE_OUT_OF_PERIOD',
              `a cancellation at period end takes effect on ${period.end}; omit effectiveDate or pass that date`,
              'effectiveDate',
            );
          }
          return {
            kind: 'CANCELLATION',
            effectiveDate: period.end,
            scheduled: true,
            seatsBefore: subscription.seats,
            seatsAfter: 0,
            change: { cancelAt: period.end },
            event: 'subscription.amended',
            prorate: null,
          };
        }
        const effectiveDate = input.effectiveDate ?? todayUtc(this.deps.clock.now());
        if (placeEffectiveDate(period, effectiveDate) === 'AT_PERIOD_END') {
          throw new DomainError(
            'EFFECTIVE_DATE_OUT_OF_PERIOD',
            `an immediate cancellation needs a date inside [${period.start}, ${period.end}); on ${period.end} use AT_PERIOD_END`,
            'effectiveDate',
          );
        }
        requireOnOrAfterLastChange(lastChange, effectiveDate);
        return {
          kind: 'CANCELLATION',
          effectiveDate,
          scheduled: false,
          seatsBefore: subscription.seats,
          seatsAfter: 0,
          change: { status: 'CANCELLED', cancelledOn: effectiveDate, cancelAt: null, pendingSeats: null },
          event: 'subscription.cancelled',
          prorate: { from: subscription.seats, to: 0 },
        };
      },
    );
  }

  /** The transaction every amendment shares; `decide` validates against the locked row. */
  private async run(
    operation: string,
    input: {
      subscriptionId: string;
      expectedVersion: number | null;
      reason: string | null;
      effectiveDate: IsoDate | null;
    },
    idempotencyKey: string,
    who: Caller,
    decide: (
      subscription: SubscriptionRow,
      plan: PlanRow,
      billTo: BillToRow,
      lastChange: IsoDate | null,
    ) => AmendmentPlan,
  ): Promise<AmendmentResult> {
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      { scope: who.caller, key: idempotencyKey, operation, input },
      (trx) => this.applyIn(trx, input, who, decide),
      // The amendment's rows, its events, the audit row and the idempotency record go out as one
      // statement before the commit: nothing here reads an insert's count or catches its error.
      { holdInserts: true },
    );
    this.deps.afterCommit();
    return value;
  }

  /**
   * A seat change asked for by the CRM (a commercial amendment), in the consumer's transaction:
   * the same rules and workflow as `amendSubscription`; a refusal throws the same coded error
   * before anything is written.
   */
  async amendInTransaction(
    trx: AnyTransaction,
    command: Omit<AmendSubscriptionCommand, 'idempotencyKey'>,
    who: Caller,
  ): Promise<AmendmentResult> {
    const input = {
      subscriptionId: command.subscriptionId,
      seats: validateSeats(command.seats),
      effectiveDate: parseIsoDate(command.effectiveDate, 'effectiveDate'),
      expectedVersion: validateExpectedVersion(command.expectedVersion),
      reason: validateReason(command.reason),
    };
    return this.applyIn(trx, input, who, (subscription, plan, billTo, lastChange) =>
      decideSeatChange(input, subscription, plan, billTo, lastChange),
    );
  }

  /** The work every amendment shares, inside the caller's transaction. */
  private async applyIn(
    trx: AnyTransaction,
    input: {
      subscriptionId: string;
      expectedVersion: number | null;
      reason: string | null;
      effectiveDate: IsoDate | null;
    },
    who: Caller,
    decide: (
      subscription: SubscriptionRow,
      plan: PlanRow,
      billTo: BillToRow,
      lastChange: IsoDate | null,
    ) => AmendmentPlan,
  ): Promise<AmendmentResult> {
    if (!isUuid(input.subscriptionId)) throw subscriptionNotFound(input.subscriptionId);
    const held = await this.billing.lockSubscription(trx, input.subscriptionId.toLowerCase());
    if (!held) throw subscriptionNotFound(input.subscriptionId);
    const { subscription: locked, billTo, plan } = held;
    if (input.expectedVersion !== null && input.expectedVersion !== locked.version) {
      throw versionConflict(input.expectedVersion, locked.version);
    }
    // The replica is never deleted and plans are never removed: a miss is a bug, not input.
    if (!billTo || !plan) throw new Error(`subscription ${locked.id} misses its bill-to account or plan`);
    const context = await readAmendmentContext(trx, locked.id, currentPeriod(locked), billTo.country);
    const decided = decide(locked, plan, billTo, context.lastChange);
    const amendmentId = uuidv7();
    const proration = this.prorationOf(plan, decided, context.rates);
    const request = {
      amendmentId,
      subscription: locked,
      billTo,
      change: decided.change,
      proration: proration ? { documentId: uuidv7(), ...proration } : null,
    };
    const result =
      decided.kind === 'CANCELLATION'
        ? await this.billing.cancelSubscription(trx, request)
        : await this.billing.amendSeats(trx, request);
    const amended = result.subscription;
    const document = result.document
      ? { issued: result.document, prorationMinor: result.prorationMinor }
      : null;
    if (document) {
      this.deps.log.debug(
        { amendmentId, invoiceId: document.issued.invoice.id },
        'proration document issued',
      );
    }
    const now = new Date();
    const steps = initialSteps(document !== null, now);
    const amendment = await insertAmendment(
      trx,
      {
        id: amendmentId,
        seq: context.seq,
        subscription_id: amended.id,
        kind: decided.kind,
        status: workflowStatus(steps, document !== null),
        correlation_id: who.correlationId,
        effective_date: decided.effectiveDate,
        scheduled: decided.scheduled,
        seats_before: decided.seatsBefore,
        seats_after: decided.seatsAfter,
        proration_minor: document?.prorationMinor ?? (decided.prorate ? 0 : null),
        currency: amended.currency,
        invoice_id: document?.issued.invoice.id ?? null,
        subscription_version: amended.version,
        reason: input.reason,
        created_at: now,
        updated_at: now,
      },
      [...steps],
    );
    const events: NewEvent[] = [subscriptionEvent(decided.event, amended, amendmentId)];
    if (document) {
      events.push(
        invoiceIssuedEvent(document.issued.invoice, document.issued.lines, amended.version, amendmentId),
      );
    }
    await appendToOutbox(trx, SCHEMA, SCHEMA, events, who);
    this.deps.log.info(
      {
        amendmentId,
        subscriptionId: amended.id,
        correlationId: who.correlationId,
        kind: decided.kind,
        version: amended.version,
        invoiceId: document?.issued.invoice.id ?? null,
      },
      'subscription amended',
    );
    return {
      amendmentId,
      subscriptionId: amended.id,
      snapshot: { amendment, subscription: amended, document: document?.issued.invoice ?? null },
    };
  }

  /**
   * What the amendment prorates, for the billing platform to bill (and the preview to show): the
   * seats over [effectiveDate, period end), the document's dates and our tax rates; null when
   * nothing is prorated (a change scheduled for the renewal, a cancellation at period end).
   */
  private prorationOf(
    plan: PlanRow,
    decided: AmendmentPlan,
    rates: readonly TaxRateRow[],
  ): Omit<ProrationRequest, 'documentId'> | null {
    if (!decided.prorate) return null;
    return {
      planName: plan.name,
      seatsBefore: decided.prorate.from,
      seatsAfter: decided.prorate.to,
      effectiveDate: decided.effectiveDate,
      rates,
      ...firstInvoiceDates(decided.effectiveDate, todayUtc(this.deps.clock.now())),
    };
  }
}

/** A seat change decided against the subscription as it is (amendSubscription and its preview). */
function decideSeatChange(
  input: { seats: number; effectiveDate: IsoDate },
  subscription: SubscriptionRow,
  plan: PlanRow,
  billTo: BillToRow,
  lastChange: IsoDate | null,
): AmendmentPlan {
  requireActive(subscription, { allowScheduledEnd: false });
  requireActiveCustomer(billTo);
  validateSeats(input.seats, { minSeats: plan.min_seats, maxSeats: plan.max_seats });
  requireRenewableSeats(input.seats, subscription.unit_price_minor);
  const placement = placeEffectiveDate(currentPeriod(subscription), input.effectiveDate);
  if (placement === 'AT_PERIOD_END') {
    // Scheduled for the renewal: compared with what the renewal would bill otherwise.
    const atRenewal = subscription.pending_seats ?? subscription.seats;
    if (input.seats === atRenewal) throw seatsUnchanged(input.seats);
    return {
      kind: 'SEATS',
      effectiveDate: input.effectiveDate,
      scheduled: true,
      seatsBefore: subscription.seats,
      seatsAfter: input.seats,
      change: { pendingSeats: input.seats === subscription.seats ? null : input.seats },
      event: 'subscription.amended',
      prorate: null,
    };
  }
  requireOnOrAfterLastChange(lastChange, input.effectiveDate);
  if (input.seats === subscription.seats) throw seatsUnchanged(input.seats);
  // The latest instruction wins: a change effective now replaces one scheduled for the renewal.
  return {
    kind: 'SEATS',
    effectiveDate: input.effectiveDate,
    scheduled: false,
    seatsBefore: subscription.seats,
    seatsAfter: input.seats,
    change: { seats: input.seats, pendingSeats: null },
    event: 'subscription.amended',
    prorate: { from: subscription.seats, to: input.seats },
  };
}

function requireActive(subscription: SubscriptionRow, options: { allowScheduledEnd: boolean }): void {
  if (subscription.status !== 'ACTIVE') {
    throw new DomainError(
      'SUBSCRIPTION_NOT_ACTIVE',
      `subscription ${subscription.id} is ${subscription.status}; only ACTIVE subscriptions can be amended`,
      'subscriptionId',
    );
  }
  if (subscription.cancel_at !== null && !options.allowScheduledEnd) {
    throw new DomainError(
      'SUBSCRIPTION_NOT_ACTIVE',
      `subscription ${subscription.id} ends on ${subscription.cancel_at}; only an immediate cancellation is still possible`,
      'subscriptionId',
    );
  }
}

function seatsUnchanged(seats: number): DomainError {
  return new DomainError('SEATS_UNCHANGED', `the subscription already has ${seats} seats`, 'seats');
}

/** The bill-to replica decides whether the customer may still be billed more (CRM owns the status). */
function requireActiveCustomer(billTo: BillToRow): void {
  if (billTo.status !== 'ACTIVE') {
    throw new DomainError(
      'CUSTOMER_NOT_ACTIVE',
      `customer ${billTo.id} is ${billTo.status}; seat changes need an ACTIVE customer`,
      'subscriptionId',
    );
  }
}
