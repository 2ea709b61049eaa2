import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultPointName } from '@c2c/platform/core';
import type { AnyDb } from '@c2c/platform/db';
import { graphql, unique } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
import { childStore, freePort, startChildStack, type ChildStack, type ChildStore } from './child-stack.ts';
import { backlog, checkInvariants } from './invariants.ts';
import { amend, aSyncedSubscription, untilStatus } from './support.ts';

// F6, F7, F8: the one-process stack (apps/stack/start.ts) runs as a child process with a fault point
// armed (C2C_FAULT_POINT, docs/faults.md). An amendment through its gateway drives it to the point,
// where it SIGKILLs itself. The test reads the store to prove the crash happened exactly there,
// restarts the stack on the same data directory (or PostgreSQL database) without the fault, and
// checks that every event is delivered and applied exactly once.

let store: ChildStore;
let dataDir: string;
let ports: { gateway: number; customer: number; subscription: number; finance: number };
let subscriptionId: string;
const acknowledged: string[] = [];
let child: ChildStack | null = null;

const start = async (faultPoint?: FaultPointName) => {
  child = await startChildStack({ store, ports, ...(faultPoint ? { faultPoint } : {}) });
  return child;
};
/** SIGTERM; the stack must stop cleanly. */
const stop = async () => {
  const exit = await child?.stop();
  expect(exit, child?.output()).toEqual({ code: 0, signal: null });
  child = null;
};

/** Opens the store while no child runs, runs `check`, and closes it. */
async function inspect<T>(check: (db: AnyDb) => Promise<T>): Promise<T> {
  const database = await store.open();
  try {
    return await check(database.db);
  } finally {
    await database.close();
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'c2c-crash-'));
  store = await childStore(dataDir);
  ports = {
    gateway: await freePort(),
    customer: await freePort(),
    subscription: await freePort(),
    finance: await freePort(),
  };
  // The book every crash starts from: a subscription known to all three systems, and one amendment
  // completed, so nothing is in flight when a child with a fault point armed starts.
  const { gatewayUrl } = await start();
  ({ subscriptionId } = await aSyncedSubscription(gatewayUrl, 3));
  const { amendment } = await amend(gatewayUrl, { subscriptionId, seats: 4, effectiveDate: '2026-03-10' });
  await untilStatus(gatewayUrl, amendment.id, 'COMPLETED');
  acknowledged.push(amendment.id);
  await stop();
});

afterAll(async () => {
  if (child) {
    await child.stop();
    child = null;
  }
  await store?.dispose();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface CrashState {
  amendmentId: string;
  /** The amendment's events in billing's outbox: published?, and already in the bus? */
  events: { type: string; published: boolean; inBus: boolean }[];
  /** Deliveries still pending whose effect is committed (inbox row present). */
  appliedNotAcked: { consumer: string; id: string; type: string; attempts: number }[];
  amendments: number;
}

async function crashState(db: AnyDb): Promise<CrashState> {
  const [latest] = (
    await sql<{ id: string; n: number }>`
      select id, (select count(*)::int from subscription.amendment where subscription_id = ${subscriptionId}) as n
      from subscription.amendment where subscription_id = ${subscriptionId} order by seq desc limit 1`.execute(
      db,
    )
  ).rows;
  const events = await sql<{ type: string; published: boolean; inBus: boolean }>`
    select o.type, o.published_at is not null as published,
      exists (select 1 from bus.message m where m.id = o.id) as "inBus"
    from subscription.outbox o where o.data->>'amendmentId' = ${latest!.id} order by o.seq`.execute(db);
  const appliedNotAcked = await sql<{ consumer: string; id: string; type: string; attempts: number }>`
    select d.consumer, m.id, m.type, d.attempts from bus.delivery d join bus.message m on m.seq = d.message_seq
    where d.state = 'pending' and (
      exists (select 1 from customer.inbox i where i.consumer = d.consumer and i.event_id = m.id)
      or exists (select 1 from subscription.inbox i where i.consumer = d.consumer and i.event_id = m.id)
      or exists (select 1 from finance.inbox i where i.consumer = d.consumer and i.event_id = m.id))
    order by d.consumer`.execute(db);
  return {
    amendmentId: latest!.id,
    events: events.rows,
    appliedNotAcked: appliedNotAcked.rows,
    amendments: latest!.n,
  };
}

/**
 * Starts the stack with `point` armed, amends through its gateway until it kills itself, checks
 * the state it left with `atCrash`, restarts it, and completes the amendment exactly once.
 */
async function crashAndRecover(point: FaultPointName, atCrash: (state: CrashState) => void) {
  // Every amendment of the subscription so far was acknowledged (the earlier tests ended cleanly).
  const before = { amendments: acknowledged.length };
  const armed = await start(point);
  const idempotencyKey = unique('crash');
  const input = { subscriptionId, seats: before.amendments + 4, effectiveDate: '2026-03-12', idempotencyKey };
  // The process may die before or after it answers: the outcome is ok or ambiguous (I5).
  const first = await graphql(armed.gatewayUrl, operation('support.AmendSubscription'), { input }).catch(
    (error: unknown) => ({ ambiguous: String(error) }),
  );
  const exit = await armed.exited;
  expect(exit, `the child dies at ${point}:\n${armed.output()}`).toEqual({ code: null, signal: 'SIGKILL' });
  expect(armed.output()).toContain(`C2C_FAULT_POINT=${point}`);
  child = null;

  const state = await inspect(crashState);
  expect(state.amendments, 'the amendment committed before the crash').toBe(before.amendments + 1);
  atCrash(state);

  // Restart on the same store without the fault; the client retries with the same key.
  const { gatewayUrl } = await start();
  const retried = await graphql<any>(gatewayUrl, operation('support.AmendSubscription'), { input });
  expect(retried.errors).toBeUndefined();
  const amendmentId = retried.data.amendSubscription.amendment.id as string;
  expect(amendmentId, 'the retry returns the stored amendment, not a second one').toBe(state.amendmentId);
  if ('data' in first && first.data)
    expect((first.data as any).amendSubscription.amendment.id).toBe(amendmentId);
  acknowledged.push(amendmentId);
  const completed = await untilStatus(gatewayUrl, amendmentId, 'COMPLETED');
  expect(completed.steps.map((s: any) => [s.system, s.status, s.attempts])).toEqual([
    ['BILLING', 'DONE', 1],
    ['ERP', 'DONE', 1],
    ['CRM', 'DONE', 1],
  ]);
  await stop();

  await inspect(async (db) => {
    expect((await crashState(db)).amendments).toBe(before.amendments + 1);
    await checkInvariants(db, { acknowledged });
  });
  return state;
}

describe('a crash at a named fault point, then a restart on the same store', () => {
  it('outbox.after-commit: committed but not yet published — published once after the restart', async () => {
    await crashAndRecover('outbox.after-commit', (state) => {
      expect(state.events).toEqual([
        { type: 'subscription.amended', published: false, inBus: false },
        { type: 'invoice.issued', published: false, inBus: false },
      ]);
      expect(state.appliedNotAcked).toEqual([]);
    });
  });

  it('relay.after-publish: in the bus but not marked published — re-sent, deduplicated, applied once', async () => {
    await crashAndRecover('relay.after-publish', (state) => {
      expect(state.events).toEqual([
        { type: 'subscription.amended', published: false, inBus: true },
        { type: 'invoice.issued', published: false, inBus: true },
      ]);
      expect(state.appliedNotAcked).toEqual([]);
    });
  });

  it('consumer.after-commit: effect committed, delivery not acknowledged — redelivered, applied once', async () => {
    let inFlight: CrashState['appliedNotAcked'] = [];
    await crashAndRecover('consumer.after-commit', (state) => {
      expect(state.events.every((e) => e.inBus)).toBe(true);
      // One consumer (rarely two, racing on PostgreSQL) committed its effect and died before the ack.
      expect(state.appliedNotAcked.length).toBeGreaterThanOrEqual(1);
      for (const delivery of state.appliedNotAcked) expect(delivery.attempts).toBe(0);
      inFlight = state.appliedNotAcked;
    });
    // After the restart the bus delivered it again; the inbox turned it into a no-op.
    await inspect(async (db) => {
      for (const delivery of inFlight) {
        const rows = await sql<{ state: string; inbox: number }>`
          select d.state, (
            select count(*)::int from (
              select 1 from customer.inbox i where i.consumer = d.consumer and i.event_id = m.id
              union all select 1 from subscription.inbox i where i.consumer = d.consumer and i.event_id = m.id
              union all select 1 from finance.inbox i where i.consumer = d.consumer and i.event_id = m.id) x
          ) as inbox
          from bus.delivery d join bus.message m on m.seq = d.message_seq
          where d.consumer = ${delivery.consumer} and m.id = ${delivery.id}`.execute(db);
        expect(rows.rows, `${delivery.consumer} ${delivery.type}`).toEqual([{ state: 'done', inbox: 1 }]);
      }
      expect(await backlog(db)).toEqual({
        unpublished: { customer: 0, subscription: 0, finance: 0 },
        pending: 0,
      });
    });
  });
});
