import {
  dateRange,
  DomainError,
  isUuid,
  money,
  toDayNumber,
  todayUtc,
  type MoneyValue,
} from '@c2c/platform/core';
import type { AnyDb } from '@c2c/platform/db';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import type { SubscriptionRow } from '../data/subscription.repository.ts';
import type { BillingPort } from '../ports/billing.port.ts';
import {
  addToPeriods,
  findChargedPeriods,
  findSubscriptionsForUsage,
  insertUsageEvents,
  periodUsage,
  usageReconciliation,
  type NewUsageEvent,
  type PeriodAddition,
  type UsageReconciliationRow,
} from '../data/usage.repository.ts';
import {
  billableQuantity,
  CLOCK_SKEW_MS,
  formatQuantity,
  isDateTime,
  isEventId,
  isMetric,
  MAX_EVENTS_PER_CALL,
  parseQuantity,
  periodContaining,
  ratedTotal,
  rateUsage,
  usagePricesOf,
  type UsagePrice,
} from './usage.rules.ts';

/** One usage event as a client reports it. */
export interface UsageEventInput {
  id: string;
  subscriptionId: string;
  metric: string;
  quantity: string;
  occurredAt: Date | string;
}

/** What a batch did: counts, and one error per refused event (`events[3].quantity`). */
export interface UsageBatchResult {
  accepted: number;
  duplicates: number;
  late: number;
  errors: DomainError[];
}

/** The ingestion counters the metrics read (this process since start). */
export interface UsageIngestionCounters {
  accepted: number;
  duplicates: number;
  late: number;
  rejected: number;
  /** Backbone messages by how they were settled (docs/usage.md). */
  messages: { processed: number; rejected: number; retried: number };
}

export interface UsageSummaryLine {
  metric: string;
  quantity: string;
  includedQuantity: string;
  billableQuantity: string;
  estimatedCharge: MoneyValue;
  lastEventAt: Date | null;
}

/**
 * Usage ingestion and the portal's summary (docs/usage.md). An event counts once by its id,
 * whenever it arrives; a refused event never stops the rest of its batch, and each batch is one
 * transaction, so nothing is half-stored.
 */
export class UsageService {
  readonly counters: UsageIngestionCounters = {
    accepted: 0,
    duplicates: 0,
    late: 0,
    rejected: 0,
    messages: { processed: 0, rejected: 0, retried: 0 },
  };

  constructor(
    private readonly deps: SubgraphDeps,
    private readonly billing: BillingPort,
  ) {}

  async recordUsage(events: readonly UsageEventInput[]): Promise<UsageBatchResult> {
    if (events.length === 0 || events.length > MAX_EVENTS_PER_CALL) {
      throw new DomainError(
        'INVALID_BATCH_SIZE',
        `a call carries 1–${MAX_EVENTS_PER_CALL} events, got ${events.length}`,
        'events',
      );
    }
    const [result] = await this.deps.db.transaction().execute((trx) => this.recordBatchesIn(trx, [events]));
    this.committed([result!]);
    return result!;
  }

  /**
   * Records several batches in the caller's transaction (the event backbone hands over many
   * messages at once): one lookup of their subscriptions, plans and invoiced periods, multi-row
   * inserts, one totals upsert, and one result per batch. An id seen in an earlier batch of the
   * same call counts as a duplicate of it, as if the batches had come one after the other. Batch
   * sizes are the caller's to check. Call `committed` with the results once the transaction commits.
   */
  async recordBatchesIn(
    trx: AnyDb,
    batches: readonly (readonly UsageEventInput[])[],
  ): Promise<UsageBatchResult[]> {
    const now = this.deps.clock.now().getTime();
    const ids = new Set<string>();
    for (const events of batches)
      for (const event of events)
        // The backbone's events are whatever JSON arrived: validateEvent refuses a non-object.
        if (typeof event === 'object' && event !== null && isUuid(event.subscriptionId))
          ids.add(event.subscriptionId.toLowerCase());
    const subscriptions = new Map(
      (await findSubscriptionsForUsage(trx, [...ids])).map((row) => [row.id, row]),
    );
    const plans = await this.billing.plansByCodes(trx, [
      ...new Set([...subscriptions.values()].map((s) => s.plan_code)),
    ]);
    const prices = new Map(
      plans.map((plan) => [
        plan.code,
        new Map(usagePricesOf(plan.usage_prices, plan.currency).map((p) => [p.metric, p])),
      ]),
    );
    const charged = new Set(
      (await findChargedPeriods(trx, [...subscriptions.keys()])).map(
        (row) => `${row.subscription_id}|${row.period_start}`,
      ),
    );
    // Events of a batch cluster on a few days: each subscription's period of a day is found once.
    const context = {
      subscriptions,
      prices,
      charged,
      now,
      periods: new Map<string, { start: string; end: string }>(),
    };
    const results: UsageBatchResult[] = [];
    const rows: NewUsageEvent[] = [];
    /** The batch (index into results) each row came from. */
    const rowBatch: number[] = [];
    const seen = new Set<string>();
    for (const [b, events] of batches.entries()) {
      const result: UsageBatchResult = { accepted: 0, duplicates: 0, late: 0, errors: [] };
      results.push(result);
      for (const [i, event] of events.entries()) {
        try {
          const row = validateEvent(event, i, context);
          if (seen.has(row.id)) {
            result.duplicates += 1;
            continue;
          }
          seen.add(row.id);
          rows.push(row);
          rowBatch.push(b);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          result.errors.push(error);
        }
      }
    }
    const stored = await insertUsageEvents(trx, rows);
    const accepted: NewUsageEvent[] = [];
    for (const [r, row] of rows.entries()) {
      const result = results[rowBatch[r]!]!;
      if (!stored.has(row.id)) {
        result.duplicates += 1;
        continue;
      }
      accepted.push(row);
      result.accepted += 1;
      if (row.late) result.late += 1;
    }
    await addToPeriods(trx, periodAdditions(accepted));
    return results;
  }

  /** Counts committed batches in the ingestion metrics and logs the ones with refusals or late events. */
  committed(
    results: readonly UsageBatchResult[],
    rejected = results.reduce((n, r) => n + r.errors.length, 0),
  ): void {
    let accepted = 0;
    let duplicates = 0;
    let late = 0;
    for (const result of results) {
      accepted += result.accepted;
      duplicates += result.duplicates;
      late += result.late;
    }
    this.counters.accepted += accepted;
    this.counters.duplicates += duplicates;
    this.counters.late += late;
    this.counters.rejected += rejected;
    if (rejected > 0 || late > 0)
      this.deps.log.info({ accepted, duplicates, late, refused: rejected }, 'usage batch recorded');
  }

  /** Usage of the subscription's current period per metered price, rated as it stands. */
  async usageSummary(subscription: SubscriptionRow): Promise<UsageSummaryLine[]> {
    const [plan] = await this.billing.plansByCodes(this.deps.db, [subscription.plan_code]);
    const prices = plan ? usagePricesOf(plan.usage_prices, plan.currency) : [];
    if (prices.length === 0) return [];
    const recorded = new Map(
      (await periodUsage(this.deps.db, subscription.id, subscription.current_period_start)).map((row) => [
        row.metric,
        row,
      ]),
    );
    return prices.map((price) => {
      const row = recorded.get(price.metric);
      const quantity = BigInt(row?.quantity ?? '0');
      return {
        metric: price.metric,
        quantity: formatQuantity(quantity),
        includedQuantity: formatQuantity(price.includedMicro),
        billableQuantity: formatQuantity(billableQuantity(price, quantity)),
        estimatedCharge: money(ratedTotal(rateUsage(price, quantity)), subscription.currency),
        lastEventAt: row?.last_event_at ?? null,
      };
    });
  }

  /** Usage recorded against usage invoiced per subscription, period and metric (periods starting in [from, to)). */
  async reconciliation(
    from: string | null,
    to: string | null,
    onlyDifferences: boolean,
  ): Promise<UsageReconciliationRow[]> {
    const range = dateRange(from, to);
    return usageReconciliation(this.deps.db, {
      from: range.from ?? '0001-01-01',
      to: range.to ?? '9999-12-31',
      onlyDifferences,
    });
  }
}

function validateEvent(
  event: UsageEventInput,
  i: number,
  context: {
    subscriptions: Map<string, SubscriptionRow>;
    prices: Map<string, Map<string, UsagePrice>>;
    charged: Set<string>;
    now: number;
    periods: Map<string, { start: string; end: string }>;
  },
): NewUsageEvent {
  const at = `events[${i}]`;
  // GraphQL hands over typed inputs; the event backbone hands over whatever JSON the producer sent.
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new DomainError(
      'INVALID_EVENT',
      'an event is an object with id, subscriptionId, metric, quantity and occurredAt',
      at,
    );
  }
  if (!isEventId(event.id)) {
    throw new DomainError('INVALID_EVENT_ID', 'id must be 1–255 printable ASCII characters', `${at}.id`);
  }
  const subscription = isUuid(event.subscriptionId)
    ? context.subscriptions.get(event.subscriptionId.toLowerCase())
    : undefined;
  if (!subscription) {
    throw new DomainError(
      'SUBSCRIPTION_NOT_FOUND',
      `no subscription ${JSON.stringify(event.subscriptionId)}`,
      `${at}.subscriptionId`,
    );
  }
  const price = isMetric(event.metric)
    ? context.prices.get(subscription.plan_code)?.get(event.metric)
    : undefined;
  if (!price) {
    throw new DomainError(
      'UNKNOWN_METRIC',
      `the subscription's plan ${subscription.plan_code} has no metered price for ${JSON.stringify(event.metric)}`,
      `${at}.metric`,
    );
  }
  const quantityMicro = parseQuantity(event.quantity, `${at}.quantity`);
  const occurredAt =
    event.occurredAt instanceof Date
      ? event.occurredAt
      : isDateTime(event.occurredAt)
        ? new Date(event.occurredAt)
        : new Date(Number.NaN);
  const occurred = occurredAt.getTime();
  if (!Number.isFinite(occurred)) {
    throw new DomainError('INVALID_DATE', 'occurredAt must be an ISO 8601 date-time', `${at}.occurredAt`);
  }
  if (occurred > context.now + CLOCK_SKEW_MS) {
    throw new DomainError(
      'OCCURRED_IN_FUTURE',
      `occurredAt ${occurredAt.toISOString()} is in the future (more than ${CLOCK_SKEW_MS / 60_000} minutes ahead of billing's clock)`,
      `${at}.occurredAt`,
    );
  }
  const day = todayUtc(occurredAt);
  if (toDayNumber(day) < toDayNumber(subscription.start_date)) {
    throw new DomainError(
      'OCCURRED_BEFORE_START',
      `occurredAt ${occurredAt.toISOString()} is before the subscription started on ${subscription.start_date}`,
      `${at}.occurredAt`,
    );
  }
  // Service ends on the cancellation date, applied or scheduled for the period end.
  const endsOn = subscription.cancelled_on ?? subscription.cancel_at;
  if (endsOn !== null && toDayNumber(day) >= toDayNumber(endsOn)) {
    throw new DomainError(
      'SUBSCRIPTION_ENDED',
      `occurredAt ${occurredAt.toISOString()} is on or after the subscription's end on ${endsOn}`,
      `${at}.occurredAt`,
    );
  }
  const periodKey = `${subscription.id}|${day}`;
  let period = context.periods.get(periodKey);
  if (!period) {
    period = periodContaining(subscription, day);
    context.periods.set(periodKey, period);
  }
  const late =
    toDayNumber(period.end) <= toDayNumber(subscription.current_period_start) ||
    context.charged.has(`${subscription.id}|${period.start}`);
  return {
    id: event.id,
    subscription_id: subscription.id,
    metric: price.metric,
    quantity_micro: Number(quantityMicro),
    occurred_at: occurredAt,
    period_start: period.start,
    period_end: period.end,
    late,
  };
}

/** Accepted events summed per subscription, period and metric. */
function periodAdditions(rows: readonly NewUsageEvent[]): PeriodAddition[] {
  const byKey = new Map<string, PeriodAddition>();
  for (const row of rows) {
    const key = `${row.subscription_id}|${row.period_start}|${row.metric}`;
    const at = row.occurred_at as Date;
    const sum = byKey.get(key);
    if (sum) {
      sum.quantityMicro += BigInt(row.quantity_micro);
      sum.events += 1;
      if (at > sum.lastEventAt) sum.lastEventAt = at;
    } else {
      byKey.set(key, {
        subscription_id: row.subscription_id,
        period_start: row.period_start,
        period_end: row.period_end,
        metric: row.metric,
        quantityMicro: BigInt(row.quantity_micro),
        events: 1,
        lastEventAt: at,
      });
    }
  }
  return [...byKey.values()];
}
