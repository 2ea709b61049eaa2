import { describe, expect, it } from 'vitest';
import { compareOrders, type OrderSubscriptionRecord, type WonOpportunity } from '../src/reconcile.ts';

const won = (id: string, overrides: Partial<WonOpportunity> = {}): WonOpportunity => ({
  opportunityId: id,
  customerId: `c-${id}`,
  planCode: 'TEAM',
  seats: 5,
  startDate: '2026-03-01',
  orderStatus: 'COMPLETED',
  ...overrides,
});
const opened = (id: string, overrides: Partial<OrderSubscriptionRecord> = {}): OrderSubscriptionRecord => ({
  orderId: `o-${id}`,
  opportunityId: id,
  subscriptionId: `s-${id}`,
  planCode: 'TEAM',
  seats: 5,
  startDate: '2026-03-01',
  ...overrides,
});

describe('order reconciliation', () => {
  it('reports nothing when every won opportunity has its one subscription on its terms', () => {
    expect(compareOrders([won('a'), won('b')], [opened('b'), opened('a')])).toEqual({
      differences: [],
      inFlight: [],
    });
  });

  it('leaves an order billing has not answered yet in flight, and reports one in EXCEPTION', () => {
    const validating = won('a', { orderStatus: 'VALIDATING' });
    const failed = won('b', { orderStatus: 'EXCEPTION' });
    expect(compareOrders([validating, failed], [])).toEqual({
      differences: [{ kind: 'WON_WITHOUT_SUBSCRIPTION', opportunity: failed }],
      inFlight: [validating],
    });
  });

  it('names each kind of difference', () => {
    const result = compareOrders(
      [won('a'), won('b', { seats: 7, startDate: '2026-04-01' })],
      [opened('a'), opened('a', { orderId: 'o-a2', subscriptionId: 's-a2' }), opened('b'), opened('z')],
    );
    expect(result.differences.map((d) => d.kind)).toEqual([
      'MORE_THAN_ONE_SUBSCRIPTION',
      'TERMS_MISMATCH',
      'SUBSCRIPTION_WITHOUT_WON',
    ]);
    expect(result.differences[1]).toMatchObject({ fields: ['seats', 'startDate'] });
    expect(result.differences[2]).toMatchObject({ subscription: { opportunityId: 'z' } });
  });
});
