import { DomainError } from '@c2c/platform/core';
import { runIdempotent } from '@c2c/platform/graphql';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import type { PlanRow } from '../data/plan.repository.ts';
import { SCHEMA } from '../data/tables.ts';
import type { BillingPort } from '../ports/billing.port.ts';
import type { Caller } from './caller.ts';
import {
  parseUnitPrice,
  validateBillingPeriod,
  validatePlanCode,
  validatePlanName,
  validateSeatBounds,
} from './plan.rules.ts';
import { validateUsagePrices, type UsagePriceInput } from './usage.rules.ts';

export interface CreatePlanCommand {
  code: string;
  name: string;
  billingPeriod: string;
  unitPrice: { amount: string; currency: string };
  minSeats?: number | null;
  maxSeats?: number | null;
  usagePrices?: readonly UsagePriceInput[] | null;
  idempotencyKey: string;
}

/** Catalog use cases. A plan is reference data: no events, nobody else keeps a copy. */
export class PlanService {
  constructor(
    private readonly deps: SubgraphDeps,
    private readonly billing: BillingPort,
  ) {}

  /** The whole catalog, by code. */
  allPlans(): Promise<PlanRow[]> {
    return this.billing.allPlans(this.deps.db);
  }

  async createPlan(command: CreatePlanCommand, who: Caller): Promise<{ planCode: string }> {
    const price = parseUnitPrice(command.unitPrice.amount, command.unitPrice.currency);
    const bounds = validateSeatBounds(command.minSeats, command.maxSeats);
    const values = {
      code: validatePlanCode(command.code),
      name: validatePlanName(command.name),
      billing_period: validateBillingPeriod(command.billingPeriod),
      unit_price_minor: price.unitPriceMinor,
      currency: price.currency,
      min_seats: bounds.minSeats,
      max_seats: bounds.maxSeats,
      usage_prices:
        command.usagePrices && command.usagePrices.length > 0
          ? JSON.stringify(validateUsagePrices(command.usagePrices, price.currency))
          : null,
    };
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      { scope: who.caller, key: command.idempotencyKey, operation: 'createPlan', input: values },
      async (trx) => {
        const row = await this.billing.createPlan(trx, values);
        if (!row)
          throw new DomainError('PLAN_CODE_TAKEN', `a plan with code ${values.code} already exists`, 'code');
        return { planCode: row.code };
      },
    );
    return value;
  }
}
