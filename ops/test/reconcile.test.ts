import { describe, expect, it } from 'vitest';
import {
  compareContractValues,
  compareControlTotals,
  compareDocuments,
  compareUsage,
  monthRange,
  parseBucketKey,
  settledDifferences,
  triageBuckets,
  type ControlTotal,
  type UsageReconciliationLine,
} from '../src/reconcile.ts';

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

describe('documents in flight', () => {
  const inFlight = (overrides: Partial<ControlTotal>, count: number, totalMinor: number) => ({
    ...bucket(overrides),
    inFlightCount: count,
    inFlightTotalMinor: totalMinor,
  });

  it('needs no drill-down where the documents in flight explain the whole difference', () => {
    const triage = triageBuckets(
      [
        inFlight({ count: 11, totalMinor: 110_00 }, 1, 10_00), // the ERP has not posted one yet
        inFlight({ month: '2026-02', count: 11, totalMinor: 110_00 }, 1, 10_00), // and one is missing
        inFlight({ month: '2026-03' }, 2, 20_00), // the ERP posted them before billing heard back
      ],
      [bucket({}), bucket({ month: '2026-02', count: 9, totalMinor: 90_00 }), bucket({ month: '2026-03' })],
    );
    expect(triage.inFlightOnly.map((d) => d.key)).toEqual(['USD|NA-SMB|2026-01|INVOICE']);
    expect(triage.drillDown.map((d) => d.key)).toEqual(['USD|NA-SMB|2026-02|INVOICE']);
  });

  it('counts an unposted document as a difference only once it is out of flight', () => {
    const doc = (id: string) => ({ id, number: `INV-${id}`, totalMinor: 100, currency: 'USD' });
    const differences = compareDocuments([doc('1'), doc('2')], [doc('3')]);
    expect(settledDifferences(differences, new Set(['1', '3']))).toEqual({
      differences: [
        { kind: 'UNPOSTED', billing: doc('2') },
        { kind: 'POSTING_WITHOUT_INVOICE', erp: doc('3') },
      ],
      inFlight: [{ kind: 'UNPOSTED', billing: doc('1') }],
    });
  });
});

describe('month range', () => {
  it('turns months into the issue-date range [from, to), both months included', () => {
    expect(monthRange('2025-11', '2026-01')).toEqual({ from: '2025-11-01', to: '2026-02-01' });
    expect(monthRange(undefined, '2025-12')).toEqual({ from: null, to: '2026-01-01' });
    expect(monthRange('2026-03', undefined)).toEqual({ from: '2026-03-01', to: null });
    expect(monthRange(undefined, undefined)).toEqual({ from: null, to: null });
  });

  it('refuses malformed months and an empty range', () => {
    expect(monthRange('2026-13', undefined)).toBeNull();
    expect(monthRange('2026-1', undefined)).toBeNull();
    expect(monthRange('2026-03', '2026-02')).toBeNull();
  });
});

describe('usage reconciliation', () => {
  const line = (recorded: string, invoiced: string, unbilled: string): UsageReconciliationLine => ({
    subscriptionId: 's1',
    period: { start: '2026-01-01', end: '2026-02-01' },
    metric: 'api_calls',
    recorded,
    invoiced,
    unbilled,
  });

  it('reports nothing when every recorded quantity was invoiced, exactly', () => {
    expect(compareUsage([line('14000.5', '14000.500000', '0'), line('0', '0', '0')])).toEqual([]);
  });

  it('names usage waiting for its invoice UNBILLED, and anything else a MISMATCH', () => {
    expect(compareUsage([line('14000.5', '12000', '2000.5')]).map((d) => d.kind)).toEqual(['UNBILLED']);
    // Invoiced less than the events marked billed (leakage), or more (double billing).
    expect(compareUsage([line('14000.5', '12000', '0')]).map((d) => d.kind)).toEqual(['MISMATCH']);
    expect(compareUsage([line('100', '100.000001', '0')]).map((d) => d.kind)).toEqual(['MISMATCH']);
    expect(compareUsage([line('100', '0', '0')]).map((d) => d.kind)).toEqual(['MISMATCH']);
  });
});
