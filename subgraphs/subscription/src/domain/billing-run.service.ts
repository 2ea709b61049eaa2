import {
  addDays,
  appendToOutbox,
  DomainError,
  parseIsoDate,
  runIdempotent,
  toDayNumber,
  todayUtc,
  type AnyDb,
  type NewEvent,
  type SubgraphDeps,
} from '@c2c/platform';
import { findBillToByIds, type BillToRow } from '../data/bill-to.repository.ts';
import { findPlansByCodes } from '../data/plan.repository.ts';
import {
  advanceSubscription,
  amendSubscriptionRow,
  findDueSubscriptionsForUpdate,
  type SubscriptionRow,
} from '../data/subscription.repository.ts';
import { SCHEMA } from '../data/tables.ts';
import { findTaxRates, type TaxRateRow } from '../data/tax-rate.repository.ts';
import { invoiceIssuedEvent } from '../events/invoice-events.ts';
import { subscriptionEvent } from '../events/subscription-events.ts';
import type { Caller } from './caller.ts';
import { renewalInvoiceDates } from './invoice.rules.ts';
import { issuePeriodInvoice } from './invoicing.ts';
import { renewalSchedule } from './subscription.rules.ts';

/** How far ahead of today a run may bill: keeps a mistyped year from issuing decades of invoices. */
export const MAX_RUN_AHEAD_DAYS = 366;
/** Outbox rows per insert, well under PostgreSQL's bind-parameter limit. */
const OUTBOX_CHUNK = 500;

export interface RenewSubscriptionsCommand {
  asOf: string;
  idempotencyKey: string;
}

export interface RenewalSummary {
  renewedCount: number;
  invoiced: { currency: string; totalMinor: number }[];
}

/** What one run needs besides the due subscriptions, loaded once for all of them. */
interface RunReferenceData {
  billTos: Map<string, BillToRow>;
  planNames: Map<string, string>;
  rates: TaxRateRow[];
}

/** The billing run: renews every due subscription, one period at a time, in one transaction. */
export class BillingRunService {
  constructor(private readonly deps: SubgraphDeps) {}

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
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      { scope: who.caller, key: command.idempotencyKey, operation: 'renewSubscriptions', input: { asOf } },
      async (trx) => {
        const due = await findDueSubscriptionsForUpdate(trx, asOf);
        const reference = await loadReferenceData(trx, due);
        const totals = new Map<string, number>();
        const events: NewEvent[] = [];
        let renewedCount = 0;
        for (const subscription of due) {
          const outcome = await renewOne(trx, subscription, asOf, reference);
          for (const renewal of outcome.renewals) {
            renewedCount += 1;
            totals.set(renewal.currency, (totals.get(renewal.currency) ?? 0) + renewal.totalMinor);
            events.push(...renewal.events);
          }
          events.push(...outcome.endEvents);
        }
        for (let i = 0; i < events.length; i += OUTBOX_CHUNK) {
          await appendToOutbox(trx, SCHEMA, SCHEMA, events.slice(i, i + OUTBOX_CHUNK), who);
        }
        return {
          renewedCount,
          invoiced: [...totals]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([currency, totalMinor]) => ({ currency, totalMinor })),
        };
      },
    );
    this.deps.afterCommit();
    return value;
  }
}

async function loadReferenceData(trx: AnyDb, due: readonly SubscriptionRow[]): Promise<RunReferenceData> {
  const billTos = await findBillToByIds(trx, [...new Set(due.map((s) => s.customer_id))]);
  const plans = await findPlansByCodes(trx, [...new Set(due.map((s) => s.plan_code))]);
  return {
    billTos: new Map(billTos.map((row) => [row.id, row])),
    planNames: new Map(plans.map((row) => [row.code, row.name])),
    rates: await findTaxRates(trx, [...new Set(billTos.map((row) => row.country))]),
  };
}

/**
 * Catches one subscription up to `asOf`: one renewal, invoice and pair of events per period. A
 * seat change scheduled for the renewal is applied by `advanceSubscription`; a cancellation
 * scheduled for a period end ends the subscription there instead of renewing it.
 */
async function renewOne(
  trx: AnyDb,
  subscription: SubscriptionRow,
  asOf: string,
  reference: RunReferenceData,
) {
  const billTo = reference.billTos.get(subscription.customer_id);
  // The replica is never deleted and a subscription needs it to exist: a miss is a bug, not input.
  if (!billTo)
    throw new Error(`subscription ${subscription.id} has no bill-to account ${subscription.customer_id}`);
  const renewals: { currency: string; totalMinor: number; events: NewEvent[] }[] = [];
  const endEvents: NewEvent[] = [];
  let current = subscription;
  for (const { index, period } of renewalSchedule(
    current.start_date,
    current.billing_period,
    current.period_index,
    asOf,
  )) {
    const cancelAt = current.cancel_at;
    if (cancelAt !== null && toDayNumber(cancelAt) <= toDayNumber(period.start)) {
      current = await amendSubscriptionRow(trx, current, {
        status: 'CANCELLED',
        cancelledOn: cancelAt,
        cancelAt: null,
        pendingSeats: null,
      });
      endEvents.push(subscriptionEvent('subscription.cancelled', current));
      break;
    }
    current = await advanceSubscription(trx, current, index, period);
    const issued = await issuePeriodInvoice(trx, {
      subscription: current,
      planName: reference.planNames.get(current.plan_code) ?? current.plan_code,
      billTo,
      rates: reference.rates,
      period,
      ...renewalInvoiceDates(period.start),
    });
    renewals.push({
      currency: issued.invoice.currency,
      totalMinor: issued.invoice.total_minor,
      events: [
        subscriptionEvent('subscription.renewed', current),
        invoiceIssuedEvent(issued.invoice, issued.lines, current.version),
      ],
    });
  }
  return { renewals, endEvents };
}
