import { describe, expect, it } from 'vitest';
import type { BillToRow } from '../src/data/bill-to.repository.ts';
import type { PlanRow } from '../src/data/plan.repository.ts';
import type { TaxRateRow } from '../src/data/tax-rate.repository.ts';
import { runOrderChecks, type OrderFacts } from '../src/domain/order.rules.ts';

// The four checks of an order (DOMAIN.md, "Opportunity to order"): all run, all reported.

const account = (overrides: Partial<BillToRow> = {}): BillToRow => ({
  id: 'a1',
  name: 'Fabrikam',
  email: 'ap@fabrikam.example',
  status: 'ACTIVE',
  business_unit: 'EMEA-MM',
  country: 'DE',
  region: null,
  parent_id: null,
  version: 1,
  updated_at: new Date(0),
  ...overrides,
});
const plan: PlanRow = {
  code: 'TEAM',
  name: 'Team',
  billing_period: 'MONTH',
  unit_price_minor: 995,
  currency: 'USD',
  min_seats: 2,
  max_seats: 10,
  created_at: new Date(0),
  usage_prices: null,
};
const rate = (overrides: Partial<TaxRateRow>): TaxRateRow => ({
  id: 1,
  country: 'DE',
  region: null,
  rate_ppm: 190000,
  valid_from: '2021-01-01',
  valid_to: null,
  ...overrides,
});
const facts = (overrides: Partial<OrderFacts> = {}): OrderFacts => ({
  account: account(),
  parent: undefined,
  plan,
  planCode: 'TEAM',
  seats: 5,
  startDate: '2026-03-01',
  accountCurrencies: [],
  rates: [rate({})],
  activeOfPlan: 0,
  ...overrides,
});
const outcome = (f: OrderFacts) => runOrderChecks(f).map((c) => `${c.name}:${c.status}`);

describe('order checks', () => {
  it('passes all four for an active account, a plan in its currency, seats in bounds, a dated rate, no duplicate', () => {
    expect(outcome(facts())).toEqual([
      'ACCOUNT_HIERARCHY:PASSED',
      'PRICING:PASSED',
      'TAX_CONTEXT:PASSED',
      'ELIGIBILITY:PASSED',
    ]);
  });

  it('ACCOUNT_HIERARCHY fails for an inactive account or an inactive bill-to parent', () => {
    expect(outcome(facts({ account: account({ status: 'CLOSED' }) }))[0]).toBe('ACCOUNT_HIERARCHY:FAILED');
    const [check] = runOrderChecks(
      facts({ account: account({ parent_id: 'p1' }), parent: account({ id: 'p1', status: 'SUSPENDED' }) }),
    );
    expect(check).toEqual({
      name: 'ACCOUNT_HIERARCHY',
      status: 'FAILED',
      message: 'bill-to parent p1 is SUSPENDED, not ACTIVE',
    });
  });

  it('PRICING fails for an unknown plan, another currency, and seats outside the bounds (both ends)', () => {
    expect(outcome(facts({ plan: undefined, planCode: 'NOPE' }))[1]).toBe('PRICING:FAILED');
    expect(runOrderChecks(facts({ accountCurrencies: ['EUR'] }))[1]!.message).toBe(
      'the account is billed in EUR; plan TEAM is sold in USD',
    );
    expect(outcome(facts({ accountCurrencies: ['USD'] }))[1]).toBe('PRICING:PASSED');
    expect(outcome(facts({ seats: 1 }))[1]).toBe('PRICING:FAILED');
    expect(outcome(facts({ seats: 2 }))[1]).toBe('PRICING:PASSED');
    expect(outcome(facts({ seats: 10 }))[1]).toBe('PRICING:PASSED');
    expect(outcome(facts({ seats: 11 }))[1]).toBe('PRICING:FAILED');
  });

  it('TAX_CONTEXT needs a rate valid on the start date, regional where one applies', () => {
    expect(outcome(facts({ rates: [rate({ valid_from: '2026-03-02' })] }))[2]).toBe('TAX_CONTEXT:FAILED');
    expect(outcome(facts({ rates: [rate({ valid_to: '2026-03-01' })] }))[2]).toBe('TAX_CONTEXT:FAILED');
    const us = account({ country: 'US', region: 'CA' });
    expect(outcome(facts({ account: us, rates: [rate({ country: 'US', region: 'CA' })] }))[2]).toBe(
      'TAX_CONTEXT:PASSED',
    );
    expect(
      outcome(
        facts({ account: account({ country: 'US' }), rates: [rate({ country: 'US', region: 'CA' })] }),
      )[2],
    ).toBe('TAX_CONTEXT:FAILED');
  });

  it('ELIGIBILITY fails when the account already has an active subscription of the plan; every check still runs', () => {
    const checks = runOrderChecks(
      facts({ activeOfPlan: 1, seats: 99, account: account({ status: 'SUSPENDED' }) }),
    );
    expect(checks.map((c) => `${c.name}:${c.status}`)).toEqual([
      'ACCOUNT_HIERARCHY:FAILED',
      'PRICING:FAILED',
      'TAX_CONTEXT:PASSED',
      'ELIGIBILITY:FAILED',
    ]);
  });
});
