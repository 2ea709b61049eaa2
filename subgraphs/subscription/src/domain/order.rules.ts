import type { IsoDate } from '@c2c/platform/core';
import type { BillToRow } from '../data/bill-to.repository.ts';
import type { PlanRow } from '../data/plan.repository.ts';
import type { TaxRateRow } from '../data/tax-rate.repository.ts';
import { pickTaxRate } from './invoice.rules.ts';

export type OrderCheckName = 'ACCOUNT_HIERARCHY' | 'PRICING' | 'TAX_CONTEXT' | 'ELIGIBILITY';

/** One check's outcome, as the order records it in the CRM. */
export interface OrderCheck {
  name: OrderCheckName;
  status: 'PASSED' | 'FAILED';
  message: string;
}

/** What billing knows about the deal when it runs the checks. */
export interface OrderFacts {
  account: BillToRow;
  /** The account's bill-to parent; undefined when it has none. */
  parent: BillToRow | undefined;
  plan: PlanRow | undefined;
  planCode: string;
  seats: number;
  startDate: IsoDate;
  /** Currencies the account is already billed in (one currency per account). */
  accountCurrencies: readonly string[];
  rates: readonly TaxRateRow[];
  /** Active subscriptions of this account to this plan. */
  activeOfPlan: number;
}

const passed = (name: OrderCheckName, message: string): OrderCheck => ({ name, status: 'PASSED', message });
const failed = (name: OrderCheckName, message: string): OrderCheck => ({ name, status: 'FAILED', message });

/**
 * The four checks of an order (docs/orders.md), all run and all reported, so a rejected order
 * shows every problem at once rather than the first one.
 */
export function runOrderChecks(facts: OrderFacts): OrderCheck[] {
  const { account, parent, plan } = facts;
  const hierarchy =
    account.status !== 'ACTIVE'
      ? failed('ACCOUNT_HIERARCHY', `account ${account.id} is ${account.status}, not ACTIVE`)
      : parent && parent.status !== 'ACTIVE'
        ? failed('ACCOUNT_HIERARCHY', `bill-to parent ${parent.id} is ${parent.status}, not ACTIVE`)
        : passed(
            'ACCOUNT_HIERARCHY',
            parent ? 'account and its bill-to parent are ACTIVE' : 'account is ACTIVE',
          );

  const otherCurrency = plan ? facts.accountCurrencies.find((c) => c !== plan.currency) : undefined;
  const pricing = !plan
    ? failed('PRICING', `no plan ${JSON.stringify(facts.planCode)}`)
    : otherCurrency
      ? failed(
          'PRICING',
          `the account is billed in ${otherCurrency}; plan ${plan.code} is sold in ${plan.currency}`,
        )
      : facts.seats < plan.min_seats || facts.seats > plan.max_seats
        ? failed(
            'PRICING',
            `${facts.seats} seats are outside plan ${plan.code}'s bounds ${plan.min_seats}–${plan.max_seats}`,
          )
        : passed(
            'PRICING',
            `plan ${plan.code} in ${plan.currency}, ${facts.seats} seats within ${plan.min_seats}–${plan.max_seats}`,
          );

  const where = account.region ? `${account.country}-${account.region}` : account.country;
  const rate = pickTaxRate(facts.rates, account.country, account.region, facts.startDate);
  const tax = rate.missing
    ? failed('TAX_CONTEXT', `no tax rate for ${where} on ${facts.startDate}`)
    : passed('TAX_CONTEXT', `tax rate ${rate.ratePpm / 10000} % for ${where} on ${facts.startDate}`);

  const eligibility =
    facts.activeOfPlan > 0
      ? failed(
          'ELIGIBILITY',
          `account ${account.id} already has an active subscription of plan ${facts.planCode}`,
        )
      : passed('ELIGIBILITY', `no active subscription of plan ${facts.planCode}`);

  return [hierarchy, pricing, tax, eligibility];
}
