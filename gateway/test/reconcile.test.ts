import { describe, expect, it } from 'vitest';
import {
  compareContractValues,
  compareControlTotals,
  compareDocuments,
  parseBucketKey,
  type ControlTotal,
} from '../src/ops/reconcile.ts';

const bucket = (overrides: Partial<ControlTotal>): ControlTotal => ({
  currency: 'USD',
  businessUnit: 'NA-SMB',
  month: '2026-01',
  kind: 'INVOICE',
  count: 10,
  totalMinor: 100_00,
  ...overrides,
});

describe('control totals', () => {
  it('reports nothing when billing and the ERP agree', () => {
    const rows = [
      bucket({}),
      bucket({ currency: 'EUR' }),
      bucket({ kind: 'CREDIT_NOTE', count: 1, totalMinor: -5_00 }),
    ];
    expect(compareControlTotals(rows, [...rows].reverse())).toEqual([]);
  });

  it('names the bucket whose count or sum differ, and buckets one side lacks', () => {
    const differences = compareControlTotals(
      [bucket({}), bucket({ month: '2026-02', count: 3, totalMinor: 30_00 })],
      [bucket({ totalMinor: 99_99 }), bucket({ businessUnit: 'APAC', count: 1, totalMinor: 7 })],
    );
    expect(differences.map((d) => d.key)).toEqual([
      'USD|APAC|2026-01|INVOICE',
      'USD|NA-SMB|2026-01|INVOICE',
      'USD|NA-SMB|2026-02|INVOICE',
    ]);
    expect(differences[1]).toEqual({
      key: 'USD|NA-SMB|2026-01|INVOICE',
      billing: { count: 10, totalMinor: 100_00 },
      erp: { count: 10, totalMinor: 99_99 },
    });
    expect(differences[2]?.erp).toEqual({ count: 0, totalMinor: 0 });
    expect(parseBucketKey('USD|APAC|2026-01|CREDIT_NOTE')).toEqual({
      currency: 'USD',
      businessUnit: 'APAC',
      month: '2026-01',
      kind: 'CREDIT_NOTE',
    });
  });
});

describe('documents behind a differing bucket', () => {
  it('finds unposted documents, postings without an invoice and amount mismatches', () => {
    const doc = (id: string, totalMinor: number) => ({
      id,
      number: `INV-${id}`,
      totalMinor,
      currency: 'USD',
    });
    expect(
      compareDocuments(
        [doc('1', 100), doc('2', 200), doc('3', 300)],
        [doc('1', 100), doc('3', 301), doc('9', 900)],
      ),
    ).toEqual([
      { kind: 'UNPOSTED', billing: doc('2', 200) },
      { kind: 'AMOUNT_MISMATCH', billing: doc('3', 300), erp: doc('3', 301) },
      { kind: 'POSTING_WITHOUT_INVOICE', erp: doc('9', 900) },
    ]);
  });
});

describe('contract values', () => {
  it('compares the CRM value with the ARR billing computes', () => {
    const cv = (customerId: string, annualValueMinor: number, currency: string | null = 'USD') => ({
      customerId,
      annualValueMinor,
      currency,
    });
    expect(
      compareContractValues(
        [cv('a', 1200), cv('b', 0, null), cv('c', 500)],
        [cv('a', 1200), cv('c', 400), cv('d', 10)],
      ),
    ).toEqual([
      { customerId: 'c', billing: cv('c', 500), crm: cv('c', 400) },
      { customerId: 'd', billing: null, crm: cv('d', 10) },
    ]);
  });
});
