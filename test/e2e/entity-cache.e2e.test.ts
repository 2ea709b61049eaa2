import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { fixedClock, graphql, unique, waitFor } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
import type { Stack } from '@c2c/apps/stack';
import { startTestStack } from '../support/stack.ts';
import { aSyncedSubscription } from '../support/scenarios.ts';

// The gateway's entity cache (docs/cache.md) through the real stack: a read is answered from the
// cache; a change made through a mutation is seen by the next read once its event is consumed —
// never the cached value. "Consumed" is read from the bus itself (the delivery is done), not from
// the cache, so the test does not trust what it tests.

let stack: Stack;
const clock = fixedClock('2026-03-10T12:00:00Z');

async function send<T = any>(name: string, variables: Record<string, unknown>): Promise<T> {
  const result = await graphql(stack.gatewayUrl, operation(name), variables);
  if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

/** The gateway's cache lookups so far, by result, from GET /metrics. */
async function lookups(): Promise<{ hit: number; miss: number }> {
  const text = await (await fetch(new URL('/metrics', stack.gatewayUrl))).text();
  const sum = (result: string) =>
    text
      .split('\n')
      .filter(
        (line) => line.startsWith('c2c_entity_cache_lookups_total{') && line.includes(`result="${result}"`),
      )
      .reduce((total, line) => total + Number(line.split(' ').pop()), 0);
  return { hit: sum('hit'), miss: sum('miss') };
}

/** Entries the gateway removed because a mutation went to the subgraph they were read from. */
async function mutationEvictions(): Promise<number> {
  const text = await (await fetch(new URL('/metrics', stack.gatewayUrl))).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('c2c_entity_cache_evictions_total{') && l.includes('reason="mutation"'));
  return Number(line?.split(' ').pop() ?? 0);
}

/** The bus's newest message so far: later events have a larger sequence number. */
async function busMark(): Promise<number> {
  const { rows } = await sql<{ seq: string | null }>`select max(seq) as seq from bus.message`.execute(
    stack.database.db,
  );
  return Number(rows[0]?.seq ?? 0);
}

/** Waits until every consumer of an event of `type` published after `mark` has applied it. */
async function consumed(type: string, mark: number, subject?: string): Promise<void> {
  await waitFor(
    async () => {
      const { rows } = await sql<{ state: string }>`
        select d.state from bus.message m join bus.delivery d on d.message_seq = m.seq
        where m.type = ${type} and m.seq > ${mark} and (${subject ?? null}::text is null or m.subject = ${subject ?? null})`.execute(
        stack.database.db,
      );
      return rows.length > 0 && rows.every((row) => row.state === 'done');
    },
    20_000,
    `${type} to be consumed`,
  );
}

const view = async (customerId: string) => (await send('portal.CustomerToCash', { customerId })).customer;

beforeAll(async () => {
  stack = await startTestStack({ clock });
});
afterAll(() => stack?.stop());

describe('the entity cache through the gateway', () => {
  it('answers a repeated read from the cache, and never from it after the event that changed it', async () => {
    expect(stack.cache).not.toBeNull();
    const { customerId, subscriptionId } = await aSyncedSubscription(send, 3);

    // Warm: the same read twice; the second is answered from the cache, the same data. On NATS the
    // last events of the setup (contract.synced, …) may still arrive and evict, so read until two
    // reads in a row agree and the second is served from the cache.
    await waitFor(
      async () => {
        const first = await view(customerId);
        const before = await lookups();
        const second = await view(customerId);
        const after = await lookups();
        return JSON.stringify(second) === JSON.stringify(first) && after.hit - before.hit >= 3;
      },
      15_000,
      'a repeated read to be answered from the cache',
    );

    // The CRM changes the customer: customer.updated evicts the cached account.
    let mark = await busMark();
    const renamed = unique('Renamed');
    const updated = await send('admin.UpdateCustomer', {
      input: { id: customerId, name: renamed, idempotencyKey: unique('upd') },
    });
    expect(updated.updateCustomer.userErrors).toEqual([]);
    await consumed('customer.updated', mark, customerId);
    expect((await view(customerId)).name).toBe(renamed);

    // The ERP records a payment in full: finance's amount due changes in its transaction, billing's
    // invoice status once its consumer applied payment.applied.
    const invoice = (await view(customerId)).subscriptions[0].invoices.nodes[0];
    expect(invoice.status).toBe('OPEN');
    expect(invoice.amountDue.amount).not.toBe('0.00');
    await view(customerId); // cached again, with the invoice OPEN
    mark = await busMark();
    const paid = await send('finance.RecordPayment', {
      input: {
        invoiceId: invoice.id,
        amount: invoice.amountDue,
        receivedOn: '2026-03-10',
        idempotencyKey: unique('pay'),
      },
    });
    expect(paid.recordPayment.userErrors).toEqual([]);
    await consumed('payment.applied', mark, invoice.id);
    const afterPayment = (await view(customerId)).subscriptions[0].invoices.nodes[0];
    expect(afterPayment.id).toBe(invoice.id);
    expect(afterPayment.status).toBe('PAID');
    expect(afterPayment.amountDue.amount).toBe('0.00');

    // Billing amends the subscription: the subscription, its new proration invoice, the CRM's
    // contract value and the ERP's posting all show in the next read once their events are consumed.
    const beforeAmendment = await view(customerId);
    const version = beforeAmendment.subscriptions[0].version;
    mark = await busMark();
    const amended = await send('support.AmendSubscription', {
      input: {
        subscriptionId,
        seats: 5,
        effectiveDate: '2026-03-10',
        expectedVersion: version,
        idempotencyKey: unique('amd'),
      },
    });
    expect(amended.amendSubscription.userErrors).toEqual([]);
    const prorationId = amended.amendSubscription.amendment.invoice.id as string;
    await consumed('subscription.amended', mark, subscriptionId);
    await consumed('invoice.issued', mark, prorationId);
    await consumed('invoice.posted', mark, prorationId);
    const afterAmendment = await view(customerId);
    const subscription = afterAmendment.subscriptions[0];
    expect(subscription.seats).toBe(5);
    expect(subscription.version).toBe(version + 1);
    const proration = subscription.invoices.nodes.find((n: { id: string }) => n.id === prorationId);
    expect(proration?.posting.status).toBe('POSTED');
    expect(subscription.invoices.totalCount).toBe(beforeAmendment.subscriptions[0].invoices.totalCount + 1);
    expect(afterAmendment.contractValue).not.toEqual(beforeAmendment.contractValue);
    expect(afterAmendment.receivable.balance).not.toEqual(beforeAmendment.receivable.balance);
  });

  it("shows a client its own write in the very next read, before the write's event is relayed", async () => {
    const { customerId } = await aSyncedSubscription(send, 2);
    const invoice = (await view(customerId)).subscriptions[0].invoices.nodes[0];
    await view(customerId); // cached, amount due unpaid
    const evictedBefore = await mutationEvictions();
    const paid = await send('finance.RecordPayment', {
      input: {
        invoiceId: invoice.id,
        amount: invoice.amountDue,
        receivedOn: '2026-03-10',
        idempotencyKey: unique('pay'),
      },
    });
    expect(paid.recordPayment.userErrors).toEqual([]);
    // No wait for any event: finance changed the amount due in the mutation's own transaction, and
    // the gateway dropped what it had read from finance before answering the mutation.
    const next = (await view(customerId)).subscriptions[0].invoices.nodes[0];
    expect(next.amountDue.amount).toBe('0.00');
    expect(await mutationEvictions()).toBeGreaterThan(evictedBefore);
    const renamed = unique('Renamed');
    await send('admin.UpdateCustomer', {
      input: { id: customerId, name: renamed, idempotencyKey: unique('upd') },
    });
    expect((await view(customerId)).name).toBe(renamed);
  });

  it('keys entries by what authorization depends on: a caller without the scope is refused, not served', async () => {
    const { customerId } = await aSyncedSubscription(send, 2);
    await view(customerId);
    await view(customerId); // cached for the admin's scopes
    const telemetry = await stack.token('telemetry');
    const refused = await graphql(
      stack.gatewayUrl,
      operation('portal.CustomerToCash'),
      { customerId },
      { authorization: `Bearer ${telemetry}` },
    );
    expect(refused.data?.customer ?? null).toBeNull();
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Another role with the read scope is another key: its first read is a miss, then a hit.
    const portal = await stack.token('portal');
    const read = () =>
      graphql(
        stack.gatewayUrl,
        operation('portal.CustomerToCash'),
        { customerId },
        { authorization: `Bearer ${portal}` },
      );
    const before = await lookups();
    const one = await read();
    const middle = await lookups();
    const two = await read();
    const after = await lookups();
    expect(one.errors).toBeUndefined();
    expect(two.data).toEqual(one.data);
    expect(middle.miss - before.miss).toBeGreaterThanOrEqual(3);
    expect(after.hit - middle.hit).toBeGreaterThanOrEqual(3);
    expect(after.miss).toBe(middle.miss);
  });
});
