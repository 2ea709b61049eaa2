import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { addDays, DomainError, parseIsoDate, toDayNumber, todayUtc, type IsoDate } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { appendToOutbox, type NewEvent } from '@c2c/platform/events';
import { runIdempotent } from '@c2c/platform/graphql';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import { insertAmendments, type NewAmendment, type NewAmendmentStep } from '../data/amendment.repository.ts';
import type { BillToRow } from '../data/bill-to.repository.ts';
import type { SubscriptionRow } from '../data/subscription.repository.ts';
import { SCHEMA, type AmendmentKind } from '../data/tables.ts';
import { findTaxRates, type TaxRateRow } from '../data/tax-rate.repository.ts';
import { insertUsageCharges } from '../data/usage.repository.ts';
import { invoiceIssuedEvent } from '../events/invoice-events.ts';
import { subscriptionEvent } from '../events/subscription-events.ts';
import { initialSteps, workflowStatus } from './amendment.rules.ts';
import type { Caller } from './caller.ts';
import { pickTaxRate, renewalInvoiceDates } from './invoice.rules.ts';
import type { BillingPort, IssuedDocument } from '../ports/billing.port.ts';
import { renewalSchedule } from './subscription.rules.ts';
import { billUsage, usageLine } from './usage-billing.ts';
import { DEFAULT_USAGE_GRACE_HOURS, gracePassed, usagePricesOf, type UsagePrice } from './usage.rules.ts';

/** How far ahead of today a run may bill: keeps a mistyped year from issuing decades of invoices. */
export const MAX_RUN_AHEAD_DAYS = 366;
/** Outbox rows per insert, well under PostgreSQL's bind-parameter limit. */
const OUTBOX_CHUNK = 500;

export interface RenewSubscriptionsCommand {
  asOf: string;
  idempotencyKey: string;
}

/** A subscription the run could not bill: left as it was, due again for the next run. */
export interface RenewalFailure {
  subscriptionId: string;
  code: string;
  message: string;
}

export interface RenewalSummary {
  renewedCount: number;
  invoiced: { currency: string; totalMinor: number }[];
  /** Absent from results stored before failures were reported. */
  failures?: RenewalFailure[];
  /**
   * Metered subscriptions whose renewal waits for the ended period's usage grace: a DRAFT, not
   * issued; the first run at or after the grace's end issues it. Absent from older results.
   */
  drafts?: number;
}

/** An error that is not a business failure is still isolated, under this code (and logged). */
export const RENEWAL_FAILED = 'RENEWAL_FAILED';

/** What one run needs besides the due subscriptions, loaded once for all of them. */
interface RunReferenceData {
  billTos: Map<string, BillToRow>;
  planNames: Map<string, string>;
  /** Metered prices per plan code; absent for a seat-only plan. */
  usagePrices: Map<string, UsagePrice[]>;
  rates: TaxRateRow[];
  /** The run's request: its correlation id goes on every amendment it records. */
  correlationId: string;
  committedAt: Date;
}

/** Amendments and steps the run records, inserted together once every subscription is renewed. */
interface RunWorkflow {
  amendments: NewAmendment[];
  steps: NewAmendmentStep[];
}

/** Why the run made a change, for operators reading the amendment; a renewal needs none. */
const APPLIED_CANCELLATION_REASON = 'cancellation at period end applied by the billing run';

/**
 * The billing run: renews every due subscription, one period at a time, in one transaction with a
 * savepoint per subscription (docs/billing-rules.md §4): a subscription that cannot be billed is
 * rolled back to its savepoint, reported with its code and left due for the next run; the others
 * commit. Each renewed period and each scheduled cancellation it applies is an amendment with
 * workflow steps (docs/events.md), acknowledged by the ERP and the CRM like any seat change.
 */
export class BillingRunService {
  /** Failures of this process's latest committed run, by code (the `c2c_billing_run_failures` gauge). */
  private lastRunFailures = new Map<string, number>();

  constructor(
    private readonly deps: SubgraphDeps,
    private readonly billing: BillingPort,
  ) {}

  /** Subscriptions the latest run of this process could not bill, by code. */
  failuresOfLastRun(): { code: string; count: number }[] {
    return [...this.lastRunFailures].map(([code, count]) => ({ code, count }));
  }

  async renewSubscriptions(command: RenewSubscriptionsCommand, who: Caller): Promise<RenewalSummary> {
    const asOf = parseIsoDate(command.asOf, 'asOf');
    const latest = addDays(todayUtc(this.deps.clock.now()), MAX_RUN_AHEAD_DAYS);
    if (toDayNumber(asOf) > toDayNumber(latest)) {
      throw new DomainError(
        'INVALID_DATE',
        `asOf may be at most ${MAX_RUN_AHEAD_DAYS} days ahead (${latest}), got ${asOf}`,
        'asOf',
      );
    }
    let amendmentCount = 0;
    const { value, replayed } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      { scope: who.caller, key: command.idempotencyKey, operation: 'renewSubscriptions', input: { asOf } },
      async (trx) => {
        const billing = this.billing;
        const due = await billing.lockDueSubscriptions(trx, asOf);
        const ended = await billing.lockEndedWithUnbilledUsage(trx);
        const reference = await loadReferenceData(billing, trx, [...due, ...ended], who);
        const totals = new Map<string, number>();
        const events: NewEvent[] = [];
        const workflow: RunWorkflow = { amendments: [], steps: [] };
        const failures: RenewalFailure[] = [];
        let renewedCount = 0;
        let drafts = 0;
        for (const subscription of due) {
          const mark = { amendments: workflow.amendments.length, steps: workflow.steps.length };
          await sql`savepoint renewal`.execute(trx);
          let outcome: Awaited<ReturnType<typeof renewOne>>;
          try {
            outcome = await renewOne(billing, trx, subscription, asOf, reference, workflow);
            await sql`release savepoint renewal`.execute(trx);
          } catch (error) {
            await sql`rollback to savepoint renewal`.execute(trx);
            workflow.amendments.length = mark.amendments;
            workflow.steps.length = mark.steps;
            const failure = renewalFailure(subscription.id, error);
            failures.push(failure);
            this.deps.log[error instanceof DomainError ? 'warn' : 'error'](
              {
                subscriptionId: subscription.id,
                correlationId: who.correlationId,
                code: failure.code,
                err: error,
              },
              'subscription not renewed; left for the next run',
            );
            continue;
          }
          for (const renewal of outcome.renewals) {
            if (renewal.renewed) renewedCount += 1;
            totals.set(renewal.currency, (totals.get(renewal.currency) ?? 0) + renewal.totalMinor);
            events.push(...renewal.events);
          }
          events.push(...outcome.endEvents);
          if (outcome.draft) drafts += 1;
        }
        // Cancelled subscriptions with usage not yet invoiced (an immediate cancellation's final
        // period, late usage after the final invoice): a usage invoice once the grace has passed.
        for (const subscription of ended) {
          const prices = reference.usagePrices.get(subscription.plan_code) ?? [];
          const endedOn = subscription.cancelled_on ?? subscription.current_period_end;
          if (prices.length === 0 || !gracePassed(endedOn, asOf, DEFAULT_USAGE_GRACE_HOURS)) continue;
          const billTo = reference.billTos.get(subscription.customer_id);
          if (!billTo) continue;
          await sql`savepoint final_usage`.execute(trx);
          try {
            const final = await issueFinalUsageInvoice(
              billing,
              trx,
              subscription,
              prices,
              { start: subscription.current_period_start, end: subscription.current_period_end },
              billTo,
              reference,
              endedOn,
            );
            await sql`release savepoint final_usage`.execute(trx);
            if (!final) continue;
            totals.set(
              final.invoice.currency,
              (totals.get(final.invoice.currency) ?? 0) + final.invoice.total_minor,
            );
            events.push(invoiceIssuedEvent(final.invoice, final.lines, subscription.version));
          } catch (error) {
            await sql`rollback to savepoint final_usage`.execute(trx);
            const failure = renewalFailure(subscription.id, error);
            failures.push(failure);
            this.deps.log[error instanceof DomainError ? 'warn' : 'error'](
              {
                subscriptionId: subscription.id,
                correlationId: who.correlationId,
                code: failure.code,
                err: error,
              },
              'final usage not invoiced; left for the next run',
            );
          }
        }
        // After the loop: every period invoice an amendment links to exists by now.
        await insertAmendments(trx, workflow.amendments, workflow.steps);
        for (let i = 0; i < events.length; i += OUTBOX_CHUNK) {
          await appendToOutbox(trx, SCHEMA, SCHEMA, events.slice(i, i + OUTBOX_CHUNK), who);
        }
        amendmentCount = workflow.amendments.length;
        return {
          renewedCount,
          invoiced: [...totals]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([currency, totalMinor]) => ({ currency, totalMinor })),
          failures,
          drafts,
        };
      },
    );
    this.deps.afterCommit();
    if (!replayed) {
      const byCode = new Map<string, number>();
      for (const failure of value.failures ?? [])
        byCode.set(failure.code, (byCode.get(failure.code) ?? 0) + 1);
      this.lastRunFailures = byCode;
      this.deps.log.info(
        {
          correlationId: who.correlationId,
          asOf,
          renewedCount: value.renewedCount,
          amendmentCount,
          failedCount: value.failures?.length ?? 0,
        },
        'billing run committed',
      );
    }
    return value;
  }
}

function renewalFailure(subscriptionId: string, error: unknown): RenewalFailure {
  if (error instanceof DomainError) return { subscriptionId, code: error.code, message: error.message };
  return {
    subscriptionId,
    code: RENEWAL_FAILED,
    message: 'the subscription could not be renewed; see the logs',
  };
}

async function loadReferenceData(
  billing: BillingPort,
  trx: AnyTransaction,
  due: readonly SubscriptionRow[],
  who: Caller,
): Promise<RunReferenceData> {
  const billTos = await billing.customersByIds(trx, [...new Set(due.map((s) => s.customer_id))]);
  const plans = await billing.plansByCodes(trx, [...new Set(due.map((s) => s.plan_code))]);
  return {
    billTos: new Map(billTos.map((row) => [row.id, row])),
    planNames: new Map(plans.map((row) => [row.code, row.name])),
    usagePrices: new Map(
      plans
        .map((row) => [row.code, usagePricesOf(row.usage_prices, row.currency)] as const)
        .filter(([, prices]) => prices.length > 0),
    ),
    rates: await findTaxRates(trx, [...new Set(billTos.map((row) => row.country))]),
    correlationId: who.correlationId,
    committedAt: new Date(),
  };
}

/**
 * Records one change the run made as an amendment with its steps, as `AmendmentService` does for a
 * request: billing DONE, the ERP PENDING on the period invoice (SKIPPED without one), the CRM
 * PENDING. Returns the amendment's id for the events.
 */
function recordAmendment(
  workflow: RunWorkflow,
  reference: RunReferenceData,
  change: {
    id: string;
    kind: AmendmentKind;
    before: SubscriptionRow;
    after: SubscriptionRow;
    effectiveDate: IsoDate;
    scheduled: boolean;
    invoiceId: string | null;
    reason: string | null;
  },
): string {
  const { id } = change;
  const hasDocument = change.invoiceId !== null;
  const steps = initialSteps(hasDocument, reference.committedAt);
  workflow.amendments.push({
    id,
    subscription_id: change.after.id,
    kind: change.kind,
    status: workflowStatus(steps, hasDocument),
    correlation_id: reference.correlationId,
    effective_date: change.effectiveDate,
    scheduled: change.scheduled,
    seats_before: change.before.seats,
    seats_after: change.after.status === 'CANCELLED' ? 0 : change.after.seats,
    proration_minor: null,
    currency: change.after.currency,
    invoice_id: change.invoiceId,
    subscription_version: change.after.version,
    reason: change.reason,
  });
  for (const step of steps) workflow.steps.push({ ...step, amendment_id: id });
  return id;
}

/**
 * Catches one subscription up to `asOf`: one renewal, invoice, RENEWAL amendment and pair of
 * events per period. A seat change scheduled for the renewal is applied by `advanceSubscription`
 * and shows in that renewal's seats before and after; a cancellation scheduled for a period end
 * ends the subscription there instead of renewing it, recorded as a CANCELLATION amendment.
 */
async function renewOne(
  billing: BillingPort,
  trx: AnyTransaction,
  subscription: SubscriptionRow,
  asOf: string,
  reference: RunReferenceData,
  workflow: RunWorkflow,
) {
  const billTo = reference.billTos.get(subscription.customer_id);
  // The replica is never deleted and a subscription needs it to exist: a miss is a bug, not input.
  if (!billTo)
    throw new Error(`subscription ${subscription.id} has no bill-to account ${subscription.customer_id}`);
  const renewals: { renewed: boolean; currency: string; totalMinor: number; events: NewEvent[] }[] = [];
  const endEvents: NewEvent[] = [];
  const prices = reference.usagePrices.get(subscription.plan_code) ?? [];
  let draft = false;
  let current = subscription;
  for (const { index, period } of renewalSchedule(
    current.start_date,
    current.billing_period,
    current.period_index,
    asOf,
  )) {
    const before = current;
    const ended = { start: before.current_period_start, end: before.current_period_end };
    // Metered: the ended period's usage is billed in arrears on this renewal once its grace has
    // passed; until then the renewal is a DRAFT and the subscription stays in the ended period.
    if (prices.length > 0 && !gracePassed(ended.end, asOf, DEFAULT_USAGE_GRACE_HOURS)) {
      draft = true;
      break;
    }
    const cancelAt = before.cancel_at;
    if (cancelAt !== null && toDayNumber(cancelAt) <= toDayNumber(period.start)) {
      const amendmentId = uuidv7();
      ({ subscription: current } = await billing.cancelSubscription(trx, {
        amendmentId,
        subscription: before,
        billTo,
        change: { status: 'CANCELLED', cancelledOn: cancelAt, cancelAt: null, pendingSeats: null },
        proration: null,
      }));
      // The final period's usage (and any late usage) on an invoice of its own.
      const final =
        prices.length > 0
          ? await issueFinalUsageInvoice(billing, trx, current, prices, ended, billTo, reference, cancelAt)
          : null;
      recordAmendment(workflow, reference, {
        id: amendmentId,
        kind: 'CANCELLATION',
        before,
        after: current,
        effectiveDate: cancelAt,
        scheduled: true,
        invoiceId: final?.invoice.id ?? null,
        reason: APPLIED_CANCELLATION_REASON,
      });
      endEvents.push(subscriptionEvent('subscription.cancelled', current, amendmentId));
      if (final) {
        // Invoiced by the run, but not a renewal.
        renewals.push({
          renewed: false,
          currency: final.invoice.currency,
          totalMinor: final.invoice.total_minor,
          events: [invoiceIssuedEvent(final.invoice, final.lines, current.version, amendmentId)],
        });
      }
      break;
    }
    const invoiceId = uuidv7();
    const usage = prices.length > 0 ? await billUsage(trx, before.id, prices, ended, invoiceId) : null;
    const renewed = await billing.renewSubscription(trx, {
      subscription: before,
      index,
      period,
      planName: reference.planNames.get(before.plan_code) ?? before.plan_code,
      billTo,
      rates: reference.rates,
      ...renewalInvoiceDates(period.start),
      invoiceId,
      ...(usage
        ? { extraLines: (ratePpm: number) => usage.items.map((item) => usageLine(item, ratePpm)) }
        : {}),
    });
    current = renewed.subscription;
    const issued = renewed.invoice;
    if (usage) await insertUsageCharges(trx, usage.charges);
    const amendmentId = recordAmendment(workflow, reference, {
      id: uuidv7(),
      kind: 'RENEWAL',
      before,
      after: current,
      effectiveDate: period.start,
      scheduled: false,
      invoiceId: issued.invoice.id,
      reason: null,
    });
    renewals.push({
      renewed: true,
      currency: issued.invoice.currency,
      totalMinor: issued.invoice.total_minor,
      events: [
        subscriptionEvent('subscription.renewed', current, amendmentId),
        invoiceIssuedEvent(issued.invoice, issued.lines, current.version, amendmentId),
      ],
    });
  }
  return { renewals, endEvents, draft };
}

/**
 * A usage-only invoice for a cancelled subscription's final period (and late usage of earlier
 * ones), issued on the day the service ended; null when no usage is left unbilled.
 */
async function issueFinalUsageInvoice(
  billing: BillingPort,
  trx: AnyTransaction,
  subscription: SubscriptionRow,
  prices: readonly UsagePrice[],
  ended: { start: IsoDate; end: IsoDate },
  billTo: BillToRow,
  reference: RunReferenceData,
  endedOn: IsoDate,
): Promise<IssuedDocument | null> {
  const invoiceId = uuidv7();
  const usage = await billUsage(trx, subscription.id, prices, ended, invoiceId);
  if (usage.charges.length === 0) return null;
  // Dated like a renewal invoice on the day the service ended.
  const dates = renewalInvoiceDates(endedOn);
  const rate = pickTaxRate(reference.rates, billTo.country, billTo.region, dates.issuedOn);
  const issued = await billing.issueDocument(trx, {
    kind: 'INVOICE',
    invoiceId,
    subscription,
    billTo,
    ...dates,
    rateMissing: rate.missing,
    lines: usage.items.map((item) => usageLine(item, rate.ratePpm)),
  });
  await insertUsageCharges(trx, usage.charges);
  return issued;
}
