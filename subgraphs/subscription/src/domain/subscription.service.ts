import { DomainError, parseIsoDate, todayUtc } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { appendToOutbox } from '@c2c/platform/events';
import { runIdempotent } from '@c2c/platform/graphql';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import type { BillToRow } from '../data/bill-to.repository.ts';
import type { PlanRow } from '../data/plan.repository.ts';
import type { SubscriptionRow } from '../data/subscription.repository.ts';
import { SCHEMA } from '../data/tables.ts';
import type { BillingPort } from '../ports/billing.port.ts';
import type { Caller } from './caller.ts';
import { isPlanCode } from './plan.rules.ts';
import { openSubscription } from './subscription-opening.ts';
import { parseCustomerId, unknownCustomer, validateSeats } from './subscription.rules.ts';

export interface CreateSubscriptionCommand {
  customerId: string;
  planCode: string;
  seats: number;
  startDate: string;
  idempotencyKey: string;
}

function planNotFound(code: string): DomainError {
  return new DomainError('PLAN_NOT_FOUND', `no plan ${JSON.stringify(code)}`, 'planCode');
}

/** Subscription use cases. Each runs in one transaction with its idempotency record and outbox events. */
export class SubscriptionService {
  constructor(
    private readonly deps: SubgraphDeps,
    private readonly billing: BillingPort,
  ) {}

  async createSubscription(
    command: CreateSubscriptionCommand,
    who: Caller,
  ): Promise<{ subscriptionId: string; subscription?: SubscriptionRow }> {
    const input = {
      customerId: parseCustomerId(command.customerId),
      planCode: isPlanCode(command.planCode) ? command.planCode : null,
      seats: validateSeats(command.seats),
      startDate: parseIsoDate(command.startDate, 'startDate'),
    };
    if (input.planCode === null) throw planNotFound(command.planCode);
    const planCode = input.planCode;
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      { scope: who.caller, key: command.idempotencyKey, operation: 'createSubscription', input },
      async (trx) => {
        const billTo = await this.requireActiveBillTo(trx, input.customerId);
        const plan = await this.requirePlan(trx, planCode);
        validateSeats(input.seats, { minSeats: plan.min_seats, maxSeats: plan.max_seats });
        await this.requireSameCurrency(trx, billTo.id, plan.currency);
        const { subscription, events } = await openSubscription(this.billing, trx, {
          billTo,
          plan,
          seats: input.seats,
          startDate: input.startDate,
          today: todayUtc(this.deps.clock.now()),
        });
        await appendToOutbox(trx, SCHEMA, SCHEMA, events, who);
        // The response as first returned (docs/billing-rules.md §5): a replay shows this row, not a re-read.
        return { subscriptionId: subscription.id, subscription };
      },
    );
    this.deps.afterCommit();
    return value;
  }

  private async requireActiveBillTo(trx: AnyTransaction, customerId: string): Promise<BillToRow> {
    const billTo = await this.billing.lockCustomer(trx, customerId);
    if (!billTo) throw unknownCustomer(customerId);
    if (billTo.status !== 'ACTIVE') {
      throw new DomainError(
        'CUSTOMER_NOT_ACTIVE',
        `customer ${customerId} is ${billTo.status}; only ACTIVE customers can subscribe`,
        'customerId',
      );
    }
    return billTo;
  }

  private async requirePlan(trx: AnyTransaction, code: string): Promise<PlanRow> {
    const [plan] = await this.billing.plansByCodes(trx, [code]);
    if (!plan) throw planNotFound(code);
    return plan;
  }

  /** One currency per customer: receivables and the contract value are kept in a single currency. */
  private async requireSameCurrency(
    trx: AnyTransaction,
    customerId: string,
    currency: string,
  ): Promise<void> {
    const other = (await this.billing.customerCurrencies(trx, customerId)).find(
      (existing) => existing !== currency,
    );
    if (other) {
      throw new DomainError(
        'CURRENCY_MISMATCH',
        `customer ${customerId} is billed in ${other}; a ${currency} plan cannot be added`,
        'planCode',
      );
    }
  }
}
