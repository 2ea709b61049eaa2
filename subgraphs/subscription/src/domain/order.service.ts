import { todayUtc, type IsoDate, type Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { appendToOutbox, type Causality } from '@c2c/platform/events';
import type { SubgraphDeps } from '@c2c/platform/subgraph';
import {
  countOrderSubscriptions,
  findOrderSubscription,
  findOrderSubscriptionPage,
  insertOrderSubscription,
} from '../data/order.repository.ts';
import { SCHEMA } from '../data/tables.ts';
import { findTaxRates } from '../data/tax-rate.repository.ts';
import { orderFailedEvent, orderRejectedEvent, orderSubscribedEvent } from '../events/order-events.ts';
import type { BillingPort } from '../ports/billing.port.ts';
import { runOrderChecks } from './order.rules.ts';
import { openSubscription } from './subscription-opening.ts';

/** A won opportunity as the CRM announced it (`opportunity.won`). */
export interface WonOpportunity {
  orderId: string;
  opportunityId: string;
  customerId: string;
  planCode: string;
  seats: number;
  startDate: IsoDate;
}

/**
 * Billing's part of an order, in the consumer's transaction: run the four checks on billing's own
 * data (bill-to replica, plan catalog, tax table, subscriptions), then either announce the
 * rejection with every check's outcome (nothing is written) or open the subscription with its
 * first invoice, remembered by the order's id, and announce it.
 */
export class OrderService {
  constructor(
    private readonly deps: SubgraphDeps,
    private readonly billing: BillingPort,
  ) {}

  async fulfil(trx: AnyTransaction, won: WonOpportunity, causality: Causality, log: Logger): Promise<void> {
    const fields = { orderId: won.orderId, correlationId: causality.correlationId };
    const already = await findOrderSubscription(trx, won.orderId);
    if (already) {
      log.info({ ...fields, subscriptionId: already.subscription_id }, 'order already subscribed');
      return;
    }
    // Locks the account, so one account's subscriptions are created one at a time (currency and
    // eligibility rules hold under concurrent orders).
    const account = await this.billing.lockCustomer(trx, won.customerId);
    // The CRM only wins opportunities of accounts it has: a missing replica is lag, not a verdict,
    // so the event is retried (and dead-lettered as order.failed if the replica never arrives).
    if (!account) throw new Error(`billing has no bill-to account ${won.customerId} yet`);
    const [parent] = account.parent_id ? await this.billing.customersByIds(trx, [account.parent_id]) : [];
    if (account.parent_id && !parent)
      throw new Error(`billing has no bill-to account ${account.parent_id} (parent) yet`);
    const [plan] = await this.billing.plansByCodes(trx, [won.planCode]);
    const checks = runOrderChecks({
      account,
      parent,
      plan,
      planCode: won.planCode,
      seats: won.seats,
      startDate: won.startDate,
      accountCurrencies: await this.billing.customerCurrencies(trx, account.id),
      rates: await findTaxRates(trx, [account.country]),
      activeOfPlan: await this.billing.countActiveSubscriptions(trx, account.id, won.planCode),
    });
    const base = { orderId: won.orderId, opportunityId: won.opportunityId, customerId: account.id, checks };
    if (!plan || checks.some((check) => check.status === 'FAILED')) {
      await appendToOutbox(trx, SCHEMA, SCHEMA, [orderRejectedEvent(base)], causality);
      log.info(
        { ...fields, failed: checks.filter((c) => c.status === 'FAILED').map((c) => c.name) },
        'order rejected',
      );
      return;
    }
    const { subscription, invoice, events } = await openSubscription(this.billing, trx, {
      billTo: account,
      plan,
      seats: won.seats,
      startDate: won.startDate,
      today: todayUtc(this.deps.clock.now()),
      orderId: won.orderId,
    });
    await insertOrderSubscription(trx, {
      order_id: won.orderId,
      opportunity_id: won.opportunityId,
      subscription_id: subscription.id,
      plan_code: plan.code,
      seats: won.seats,
      start_date: won.startDate,
    });
    await appendToOutbox(
      trx,
      SCHEMA,
      SCHEMA,
      [...events, orderSubscribedEvent({ ...base, subscriptionId: subscription.id, invoiceId: invoice.id })],
      causality,
    );
    log.info({ ...fields, subscriptionId: subscription.id }, 'order subscribed');
  }

  /** Reconciliation: the subscriptions orders opened, by order id after the keyset position. */
  page(afterOrderId: string | null, limit: number) {
    return findOrderSubscriptionPage(this.deps.db, afterOrderId, limit);
  }

  count() {
    return countOrderSubscriptions(this.deps.db);
  }

  /** Billing gave up on an order's `opportunity.won`: the CRM shows the order's BILLING step failed. */
  async announceFailed(
    trx: AnyTransaction,
    failure: { orderId: string; error: string; attempts: number },
    causality: Causality,
  ): Promise<void> {
    await appendToOutbox(trx, SCHEMA, SCHEMA, [orderFailedEvent(failure)], causality);
  }
}
