import { expect } from 'vitest';
import { buildCustomerSubgraph } from '@c2c/customer';
import { buildFinanceSubgraph } from '@c2c/finance';
import { silentLogger } from '@c2c/platform/core';
import { type AnyDb } from '@c2c/platform/db';
import { type ConsumerOptions } from '@c2c/platform/events';
import { fixedClock, graphql, unique, waitFor } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
import type { Stack } from '@c2c/apps/stack';
import { aSyncedSubscription as syncedSubscription, type SyncedSubscription } from '../support/scenarios.ts';
import { startTestStack } from '../support/stack.ts';

// Shared setup of the in-process (embedded shape) fault tests: one stack per test file on a fresh
// database (PGlite in memory, or a new PostgreSQL database when DATABASE_URL is set), a pinned
// clock, fast retries, and every request a registered client operation sent through the gateway.

export const TODAY = '2026-03-10T12:00:00Z';
/** Three attempts a few milliseconds apart, so a failing consumer dead-letters within the test. */
export const RETRY = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 };

export async function startFaultStack(): Promise<Stack> {
  const stack = await startTestStack({
    clock: fixedClock(TODAY),
    retry: RETRY,
  });
  return stack;
}

/** Sends a registered operation through the gateway; GraphQL errors fail the test. */
export async function send<T = any>(
  gatewayUrl: string,
  name: string,
  variables: Record<string, unknown>,
): Promise<T> {
  const result = await graphql(gatewayUrl, operation(name), variables);
  if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

export type { SyncedSubscription } from '../support/scenarios.ts';

/** A customer with a 9.95 USD/seat/month subscription from 2026-03-01, known to the CRM and posted by the ERP. */
export function aSyncedSubscription(
  gatewayUrl: string,
  seats: number,
  country = 'DE',
): Promise<SyncedSubscription> {
  return syncedSubscription((name, variables) => send(gatewayUrl, name, variables), seats, {
    name: 'Fault Co',
    email: 'ap@fault.example',
    country,
    planPrefix: 'FAULT',
  });
}

/** Issues `support.AmendSubscription` and returns the payload; user errors fail the test. */
export async function amend(
  gatewayUrl: string,
  input: { subscriptionId: string; seats: number; effectiveDate: string; expectedVersion?: number },
): Promise<{ amendment: any; subscription: any }> {
  const data = await send(gatewayUrl, 'support.AmendSubscription', {
    input: { ...input, idempotencyKey: unique('amend'), reason: 'fault test' },
  });
  expect(data.amendSubscription.userErrors).toEqual([]);
  return data.amendSubscription;
}

export const amendmentStatus = async (gatewayUrl: string, id: string) =>
  (await send(gatewayUrl, 'support.AmendmentStatus', { id })).amendment;

export const untilStatus = (gatewayUrl: string, id: string, status: string, timeoutMs = 30_000) =>
  waitFor(
    async () => {
      const amendment = await amendmentStatus(gatewayUrl, id);
      return amendment.status === status ? amendment : undefined;
    },
    timeoutMs,
    `amendment ${id} to be ${status}`,
  );

/**
 * A consumer of the stack's database with the subgraph's own handlers, for delivering an event by
 * hand through the platform's `applyOnce` (the same inbox a real delivery uses).
 */
export function consumerOf(
  db: AnyDb,
  subgraph: 'customer' | 'finance',
  consumer: string,
): Omit<ConsumerOptions, 'transport'> {
  const log = silentLogger();
  const build = subgraph === 'customer' ? buildCustomerSubgraph : buildFinanceSubgraph;
  const definition = build({ db, log, clock: fixedClock(TODAY), afterCommit: () => undefined, env: {} });
  const handlers = definition.consumers[consumer];
  if (!handlers) throw new Error(`no consumer ${consumer} in ${subgraph}`);
  return { db, schema: definition.name, consumer, handlers, log };
}
