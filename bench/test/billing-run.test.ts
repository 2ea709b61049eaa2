import { describe, expect, it } from 'vitest';
import { billingRenewals } from '../billing-run.ts';

describe('billingRenewals', () => {
  it('renews 10^5 subscriptions in a full run; a quick one 2,000 on the cluster, 1,000 in one process', () => {
    expect(billingRenewals(false, {})).toBe(100_000);
    expect(billingRenewals(false, {}, false)).toBe(100_000);
    expect(billingRenewals(true, {})).toBe(2_000);
    expect(billingRenewals(true, {}, false)).toBe(1_000);
  });

  it('takes BENCH_BILLING_RENEWALS when it is a whole number from 10 to 10^6, else the default', () => {
    expect(billingRenewals(true, { BENCH_BILLING_RENEWALS: '2500' })).toBe(2_500);
    expect(billingRenewals(false, { BENCH_BILLING_RENEWALS: '5' })).toBe(100_000);
    expect(billingRenewals(true, { BENCH_BILLING_RENEWALS: '12.5' })).toBe(2_000);
    expect(billingRenewals(true, { BENCH_BILLING_RENEWALS: 'many' })).toBe(2_000);
  });
});
