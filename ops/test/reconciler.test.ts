import { describe, expect, it } from 'vitest';
import { differencesByBusinessUnit } from '../src/reconciler.ts';

describe('differencesByBusinessUnit', () => {
  const bucket = { currency: 'USD', month: '2026-03', kind: 'INVOICE' as const };
  it('counts the differing buckets per business unit that documents in flight do not explain', () => {
    const billing = [
      // EMEA: one document in flight explains the difference.
      {
        ...bucket,
        businessUnit: 'EMEA',
        count: 3,
        totalMinor: 300,
        inFlightCount: 1,
        inFlightTotalMinor: 100,
      },
      // NA: a real difference of 50 in USD and one in EUR.
      { ...bucket, businessUnit: 'NA', count: 2, totalMinor: 250, inFlightCount: 0, inFlightTotalMinor: 0 },
      {
        ...bucket,
        currency: 'EUR',
        businessUnit: 'NA',
        count: 1,
        totalMinor: 10,
        inFlightCount: 0,
        inFlightTotalMinor: 0,
      },
      // APAC agrees.
      { ...bucket, businessUnit: 'APAC', count: 1, totalMinor: 99, inFlightCount: 0, inFlightTotalMinor: 0 },
    ];
    const erp = [
      { ...bucket, businessUnit: 'EMEA', count: 2, totalMinor: 200 },
      { ...bucket, businessUnit: 'NA', count: 2, totalMinor: 200 },
      { ...bucket, businessUnit: 'APAC', count: 1, totalMinor: 99 },
      // LATAM only in the ERP: a posting without an invoice.
      { ...bucket, businessUnit: 'LATAM', count: 1, totalMinor: 5 },
    ];
    expect(differencesByBusinessUnit(billing, erp)).toEqual([
      { businessUnit: 'APAC', buckets: 0, amountMinor: {} },
      { businessUnit: 'EMEA', buckets: 0, amountMinor: {} },
      { businessUnit: 'LATAM', buckets: 1, amountMinor: { USD: 5 } },
      { businessUnit: 'NA', buckets: 2, amountMinor: { USD: 50, EUR: 10 } },
    ]);
  });
});
