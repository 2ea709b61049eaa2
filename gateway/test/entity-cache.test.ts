import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '@c2c/platform/core';
import { authKey, EntityCache, type SubgraphAnswer } from '../src/cache/entity-cache.ts';
import { cachePolicyFromSdl } from '../src/cache/policy.ts';
import { analyseFetch } from '../src/cache/shape.ts';
import { entryBytes, MemoryCacheStore } from '../src/cache/store.ts';

// The entity cache's parts on the committed supergraph: what the subgraphs' hints make cacheable,
// how answers are split and tagged, and the store's bound and stale-store guard.
const ROOT = join(import.meta.dirname, '..', '..');
const policy = cachePolicyFromSdl(readFileSync(join(ROOT, 'schema', 'supergraph.graphql'), 'utf8'));
const admin = { sub: 'a', role: 'admin', scopes: ['c2c:read', 'c2c:admin'] };

const INVOICE_FETCH = `query($representations:[_Any!]!){_entities(representations:$representations){...on Invoice{posting{status journalEntryId postedAt}amountDue{amount currency}}}}`;

describe('the cache policy from the SDL', () => {
  it('reads the hints and the evictions the subgraphs declared', () => {
    expect(policy.fieldMaxAge.get('Customer.name')).toBe(300);
    expect(policy.fieldMaxAge.get('RevenueMonth.recognized')).toBe(0);
    expect(policy.keys.get('Plan')).toEqual(['code']);
    expect(policy.evictions.get('payment.applied')).toEqual(
      expect.arrayContaining([
        { type: 'Invoice', kind: 'object', field: 'invoiceId' },
        { type: 'Customer', kind: 'all' },
      ]),
    );
    expect(policy.evictions.get('customer.created')).toEqual([{ type: 'Customer', kind: 'lists' }]);
  });

  it('caches a fetch only where every field is declared, and never a field no event announces', () => {
    expect(analyseFetch(policy, INVOICE_FETCH).kind).toBe('entities');
    // overdue depends on today's date: @cached(maxAge: 0).
    const receivable = `query($representations:[_Any!]!){_entities(representations:$representations){...on Customer{receivable{balance{amount currency}overdue{amount currency}}}}}`;
    expect(analyseFetch(policy, receivable).kind).toBe('uncached');
    expect(analyseFetch(policy, receivable.replace('overdue{amount currency}', '')).kind).toBe('entities');
    // Finance's payments on an invoice are not declared.
    expect(
      analyseFetch(policy, INVOICE_FETCH.replace('amountDue{amount currency}', 'payments{id}')).kind,
    ).toBe('uncached');
    expect(analyseFetch(policy, `mutation{x}`).kind).toBe('uncached');
    expect(analyseFetch(policy, `{customer(id:"1"){id name contractValue{amount currency}}}`).kind).toBe(
      'root',
    );
  });
});

describe('the entity cache', () => {
  const invoice = (id: string, amount: string) => ({
    posting: { status: 'POSTED', journalEntryId: `je-${id}`, postedAt: '2026-03-01T00:00:00Z' },
    amountDue: { amount, currency: 'USD' },
  });

  function harness() {
    const store = new MemoryCacheStore(10_000_000);
    const cache = new EntityCache({ policy, store, log: silentLogger() });
    const asked: unknown[][] = [];
    let amounts: Record<string, string> = { i1: '10.00', i2: '20.00', i3: '30.00' };
    const fetch = async (variables: Record<string, unknown> | undefined): Promise<SubgraphAnswer> => {
      const reps = variables?.representations as { id: string }[];
      asked.push(reps.map((r) => r.id));
      return { data: { _entities: reps.map((r) => invoice(r.id, amounts[r.id] ?? '0.00')) } };
    };
    const read = (ids: string[], principal = admin) =>
      cache.resolve(
        'finance',
        {
          query: INVOICE_FETCH,
          variables: { representations: ids.map((id) => ({ __typename: 'Invoice', id })) },
        },
        principal,
        fetch,
      );
    return { cache, store, asked, read, setAmounts: (a: Record<string, string>) => (amounts = a) };
  }

  it('asks the subgraph only for the representations it does not hold, in order', async () => {
    const { asked, read } = harness();
    await read(['i1', 'i2']);
    const answer = await read(['i3', 'i1', 'i2']);
    expect(asked).toEqual([['i1', 'i2'], ['i3']]);
    expect(
      (answer.data?._entities as { amountDue: { amount: string } }[]).map((e) => e.amountDue.amount),
    ).toEqual(['30.00', '10.00', '20.00']);
    await read(['i1', 'i2', 'i3']);
    expect(asked).toHaveLength(2);
  });

  it('evicts exactly the objects an applied event names', async () => {
    const { cache, asked, read, setAmounts } = harness();
    await read(['i1', 'i2']);
    setAmounts({ i1: '0.00', i2: '20.00' });
    expect(await cache.applied([{ type: 'payment.applied', data: { invoiceId: 'i1' } }])).toBe(1);
    const answer = await read(['i1', 'i2']);
    expect(asked).toEqual([['i1', 'i2'], ['i1']]);
    expect((answer.data?._entities as { amountDue: { amount: string } }[])[0]?.amountDue.amount).toBe('0.00');
    // An event no hint names evicts nothing.
    expect(await cache.applied([{ type: 'opportunity.won', data: { opportunityId: 'i2' } }])).toBe(0);
  });

  it('keeps one entry per role and scope set, never per subject alone', async () => {
    const { asked, read } = harness();
    await read(['i1']);
    await read(['i1'], { ...admin, sub: 'someone else' });
    await read(['i1'], { sub: 'p', role: 'portal', scopes: ['c2c:read'] });
    expect(asked).toEqual([['i1'], ['i1']]);
    expect(authKey({ sub: 'x', role: 'r', scopes: ['b', 'a', 'a'] })).toBe('r|a b');
  });

  it('does not keep an answer read before an event that changed it', async () => {
    const store = new MemoryCacheStore(10_000_000);
    const cache = new EntityCache({ policy, store, log: silentLogger() });
    let asked = 0;
    const slow = async (variables: Record<string, unknown> | undefined): Promise<SubgraphAnswer> => {
      asked += 1;
      // The first time, the event is applied while the subgraph's (old) answer is on its way back.
      if (asked === 1) await cache.applied([{ type: 'invoice.posted', data: { invoiceId: 'i1' } }]);
      const reps = variables?.representations as { id: string }[];
      return { data: { _entities: reps.map((r) => invoice(r.id, '1.00')) } };
    };
    const request = {
      query: INVOICE_FETCH,
      variables: { representations: [{ __typename: 'Invoice', id: 'i1' }] },
    };
    await cache.resolve('finance', request, admin, slow);
    expect(store.stats().entries).toBe(0);
    await cache.resolve('finance', request, admin, slow);
    expect(store.stats().entries).toBe(1);
    await cache.resolve('finance', request, admin, slow);
    expect(asked).toBe(2);
  });

  it('keeps no representation an error names, and keeps the error on its original index', async () => {
    const store = new MemoryCacheStore(10_000_000);
    const cache = new EntityCache({ policy, store, log: silentLogger() });
    const request = (ids: string[]) => ({
      query: INVOICE_FETCH,
      variables: { representations: ids.map((id) => ({ __typename: 'Invoice', id })) },
    });
    const ok = async (variables: Record<string, unknown> | undefined): Promise<SubgraphAnswer> => ({
      data: { _entities: (variables?.representations as { id: string }[]).map((r) => invoice(r.id, '1.00')) },
    });
    await cache.resolve('finance', request(['i1']), admin, ok);
    const answer = await cache.resolve('finance', request(['i1', 'i2']), admin, async () => ({
      data: { _entities: [{ posting: null, amountDue: null }] },
      errors: [{ message: 'ERP unavailable', path: ['_entities', 0, 'posting'] }],
    }));
    expect(answer.errors?.[0]?.path).toEqual(['_entities', 1, 'posting']);
    expect(store.stats().entries).toBe(1);
  });
});

describe('the in-process store', () => {
  it('stays within its byte bound, dropping the least recently used', async () => {
    const evicted: number[] = [];
    const one = entryBytes('k0', 'x'.repeat(100), ['o:T:0']);
    const store = new MemoryCacheStore(one * 3, { evicted: (_reason, n) => evicted.push(n) });
    for (const i of [0, 1, 2]) {
      await store.set(await store.begin(), [
        { key: `k${i}`, value: 'x'.repeat(100), tags: [`o:T:${i}`], ttlMs: 60_000 },
      ]);
    }
    await store.get(['k0']); // k1 is now the least recently used
    await store.set(await store.begin(), [
      { key: 'k3', value: 'x'.repeat(100), tags: ['o:T:3'], ttlMs: 60_000 },
    ]);
    expect(await store.get(['k0', 'k1', 'k2', 'k3'])).toEqual([
      'x'.repeat(100),
      undefined,
      'x'.repeat(100),
      'x'.repeat(100),
    ]);
    expect(store.stats().bytes).toBeLessThanOrEqual(one * 3);
    expect(evicted).toEqual([1]);
  });

  it('forgets an entry after its max age', async () => {
    let now = 1000;
    const store = new MemoryCacheStore(1_000_000, {}, () => now);
    await store.set(await store.begin(), [{ key: 'k', value: 'v', tags: [], ttlMs: 500 }]);
    expect(await store.get(['k'])).toEqual(['v']);
    now = 1500;
    expect(await store.get(['k'])).toEqual([undefined]);
  });
});
