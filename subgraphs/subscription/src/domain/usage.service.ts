import {
  dateRange,
  DomainError,
  isUuid,
  money,
  toDayNumber,
  todayUtc,
  type MoneyValue,
} from '@c2c/platform/core';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import type { SubscriptionRow } from '../data/subscription.repository.ts';
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
import type { BillingPort } from '../ports/billing.port.ts';
import {
  billableQuantity,
  CLOCK_SKEW_MS,
  formatQuantity,
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
  readonly counters: UsageIngestionCounters = { accepted: 0, duplicates: 0, late: 0, rejected: 0 };

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
    const now = this.deps.clock.now().getTime();
    const result = await this.deps.db.transaction().execute(async (trx) => {
      const ids = [
        ...new Set(
          events
            .map((e) => e.subscriptionId)
            .filter(isUuid)
            .map((id) => id.toLowerCase()),
        ),
      ];
      const subscriptions = new Map((await findSubscriptionsForUsage(trx, ids)).map((row) => [row.id, row]));
      const plans = await this.billing.plansByCodes(trx, [
        ...new Set([...subscriptions.values()].map((s) => s.plan_code)),
      ]);
      const prices = new Map(
        plans.map((plan) => [
          plan.code,
          new Map(usagePricesOf(plan.usage_prices, plan.currency).map((p) => [p.metric, p])),
        ]),
      );
      // Events of a batch cluster on a few days: each subscription's period of a day is found once.
      const periods = new Map<string, { start: string; end: string }>();
      const charged = new Set(
        (await findChargedPeriods(trx, [...subscriptions.keys()])).map(
          (row) => `${row.subscription_id}|${row.period_start}`,
        ),
      );
      const errors: DomainError[] = [];
      const rows: NewUsageEvent[] = [];
      const inBatch = new Set<string>();
      let duplicates = 0;
      for (const [i, event] of events.entries()) {
        try {
          const row = validateEvent(event, i, { subscriptions, prices, charged, now, periods });
          if (inBatch.has(row.id)) {
            duplicates += 1;
            continue;
          }
          inBatch.add(row.id);
          rows.push(row);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          errors.push(error);
        }
      }
      const stored = await insertUsageEvents(trx, rows);
      duplicates += rows.length - stored.size;
      await addToPeriods(trx, periodAdditions(rows.filter((row) => stored.has(row.id))));
      const late = rows.filter((row) => row.late && stored.has(row.id)).length;
      return { accepted: stored.size, duplicates, late, errors };
    });
    this.counters.accepted += result.accepted;
    this.counters.duplicates += result.duplicates;
    this.counters.late += result.late;
    this.counters.rejected += result.errors.length;
    if (result.errors.length > 0 || result.late > 0)
      this.deps.log.info(
        {
          accepted: result.accepted,
          duplicates: result.duplicates,
          late: result.late,
          refused: result.errors.length,
        },
        'usage batch recorded',
      );
    return result;
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
  const occurredAt = event.occurredAt instanceof Date ? event.occurredAt : new Date(event.occurredAt);
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
