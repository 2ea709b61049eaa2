import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudEvent } from '@c2c/platform/events';
import { unique, waitFor, type TestSubgraphs } from '@c2c/platform/testing';

const OPERATIONS = join(import.meta.dirname, '..', '..', '..', 'schema', 'operations');
const operation = (name: string) => readFileSync(join(OPERATIONS, `${name}.graphql`), 'utf8');

/** The registered client operations, sent unchanged. */
export const CREATE_PLAN = operation('admin.CreatePlan');
export const CREATE_SUBSCRIPTION = operation('admin.CreateSubscription');
export const RENEW = operation('billing.RenewSubscriptions');
export const AMEND = operation('support.AmendSubscription');
export const PREVIEW = operation('support.PreviewAmendment');

/** An event as another subgraph would publish it, built by hand as the contract describes it. */
export function envelope<T>(
  source: string,
  type: string,
  subject: string,
  data: T,
  version?: number,
): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source,
    type,
    subject,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
    correlationid: randomUUID(),
    ...(version !== undefined ? { aggregateversion: version } : {}),
  };
}

export function aCustomerData(overrides: Record<string, unknown> = {}) {
  return {
    id: randomUUID(),
    name: unique('Acme'),
    email: 'billing@acme.example',
    status: 'ACTIVE',
    businessUnit: 'EMEA',
    segment: null,
    country: 'DE',
    region: null,
    parentId: null,
    version: 1,
    ...overrides,
  };
}

export function aPlan(overrides: Record<string, unknown> = {}) {
  return {
    code: unique('PRO')
      .toUpperCase()
      .replace(/[^A-Z0-9_-]/g, '-'),
    name: 'Pro',
    billingPeriod: 'MONTH',
    unitPrice: { amount: '9.95', currency: 'USD' },
    idempotencyKey: unique('key'),
    ...overrides,
  };
}

/** Publishes `customer.created` and waits until the bill-to replica holds it. */
export async function addBillTo(
  stack: TestSubgraphs,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const data = aCustomerData(overrides);
  await stack.transport.publish([envelope('customer', 'customer.created', data.id, data, data.version)]);
  await waitFor(() => billTo(stack, data.id), 10_000, `bill-to ${data.id}`);
  return data.id;
}

export async function billTo(stack: TestSubgraphs, id: string) {
  return stack.database.db
    .withSchema('subscription')
    .selectFrom('bill_to_account')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function countRows(stack: TestSubgraphs, table: string): Promise<number> {
  const row = await stack.database.db
    .withSchema('subscription')
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Row counts of everything a write could touch: a rejected request must leave them all unchanged. */
export async function writeCounts(stack: TestSubgraphs) {
  const tables = [
    'plan',
    'subscription',
    'invoice',
    'invoice_line',
    'outbox',
    'idempotency_key',
    'amendment',
    'amendment_step',
  ];
  return Object.fromEntries(
    await Promise.all(tables.map(async (t) => [t, await countRows(stack, t)] as const)),
  );
}

export interface OutboxEvent {
  type: string;
  subject: string;
  data: Record<string, unknown>;
  aggregate_version: number | null;
  correlation_id: string;
}

export async function outboxFor(stack: TestSubgraphs, subjects: string[]): Promise<OutboxEvent[]> {
  if (subjects.length === 0) return [];
  const rows = await stack.database.db
    .withSchema('subscription')
    .selectFrom('outbox')
    .select(['type', 'subject', 'data', 'aggregate_version', 'correlation_id'])
    .where('subject', 'in', subjects)
    .orderBy('seq')
    .execute();
  return rows.map((row) => ({
    ...row,
    data: typeof row.data === 'string' ? JSON.parse(row.data) : row.data,
  })) as OutboxEvent[];
}
