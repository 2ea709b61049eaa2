import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTracing, TRACE_ATTRIBUTES as A, type Tracing } from '@c2c/platform/observability';
import { fixedClock, waitFor } from '@c2c/platform/testing';
import type { Stack } from '@c2c/apps/stack';
import { startTestStack } from '../support/stack.ts';
import { aSyncedSubscription, amend, RETRY, TODAY, untilStatus } from '../faults/support.ts';

// One amendment is one trace (docs/tracing.md): the gateway's request span is the root; under it the
// fetch to billing, billing's request span and its SQL; the events billing appended carry the trace
// in their `traceparent` extension, so the ERP's and the CRM's consumer spans are its children, and
// the acknowledgements they emit continue it into billing's consumers, which complete the amendment.
// Everything runs in this process, so each span says which system recorded it (`c2c.service`).

const exporter = new InMemorySpanExporter();
const logLines: Record<string, unknown>[] = [];
let tracing: Tracing;
let stack: Stack;

beforeAll(async () => {
  tracing = setupTracing({ serviceName: 'c2c-test', exporter });
  stack = await startTestStack({
    log: pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) }),
    clock: fixedClock(TODAY),
    retry: RETRY,
  });
});
afterAll(async () => {
  await stack?.stop();
  await tracing?.shutdown();
});

const attr = (span: ReadableSpan, name: string) => span.attributes[name];
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

/** The finished spans of one trace, with parent links resolved. */
function traceTree(traceId: string) {
  const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const byId = new Map(spans.map((s) => [idOf(s), s]));
  const parent = (span: ReadableSpan) => {
    const id = span.parentSpanContext?.spanId;
    return id ? byId.get(id) : undefined;
  };
  const descends = (span: ReadableSpan, ancestor: ReadableSpan): boolean => {
    for (let p = parent(span); p; p = parent(p)) if (p === ancestor) return true;
    return false;
  };
  return { spans, parent, descends };
}

describe('tracing', () => {
  it('makes one amendment one trace across the gateway, billing, the ERP and the CRM', async () => {
    const { subscriptionId } = await aSyncedSubscription(stack.gatewayUrl, 3);
    const { amendment } = await amend(stack.gatewayUrl, {
      subscriptionId,
      seats: 5,
      effectiveDate: '2026-03-10',
      expectedVersion: 1,
    });
    await untilStatus(stack.gatewayUrl, amendment.id, 'COMPLETED');
    const correlationId = amendment.correlationId as string;

    const root = exporter
      .getFinishedSpans()
      .find(
        (s) =>
          s.name === 'AmendSubscription' &&
          attr(s, A.service) === 'gateway' &&
          attr(s, A.correlationId) === correlationId,
      );
    if (!root) throw new Error('no gateway span for the AmendSubscription request');
    const traceId = root.spanContext().traceId;

    // The acknowledgements finish after COMPLETED is readable: wait for their spans to end.
    const consumerSpan = (spans: ReadableSpan[], consumer: string, type: string) =>
      spans.find(
        (s) =>
          s.kind === SpanKind.CONSUMER &&
          attr(s, A.consumer) === consumer &&
          attr(s, 'cloudevents.event_type') === type,
      );
    const tree = await waitFor(
      async () => {
        const candidate = traceTree(traceId);
        const complete =
          consumerSpan(candidate.spans, 'subscription.erp-ack', 'invoice.posted') &&
          consumerSpan(candidate.spans, 'subscription.crm-ack', 'contract.synced') &&
          candidate.spans.every((s) => s === root || candidate.parent(s));
        return complete ? candidate : undefined;
      },
      10_000,
      'the spans of the amendment',
    );
    const { spans, parent, descends } = tree;

    // The gateway request is the root; nothing else in the trace is a gateway request.
    expect(root.kind).toBe(SpanKind.SERVER);
    expect(root.parentSpanContext).toBeUndefined();
    expect(attr(root, 'graphql.operation.type')).toBe('mutation');
    expect(spans.filter((s) => s.kind === SpanKind.SERVER && attr(s, A.service) === 'gateway')).toEqual([
      root,
    ]);
    // Every span hangs off the root: one tree, one trace.
    for (const span of spans) if (span !== root) expect(descends(span, root)).toBe(true);

    // Gateway → billing: the fetch (a client span of the gateway), billing's request span under it.
    const fetches = spans.filter((s) => s.kind === SpanKind.CLIENT && attr(s, A.service) === 'gateway');
    const billingFetch = fetches.find((s) => attr(s, A.subgraph) === 'subscription');
    expect(billingFetch).toBeDefined();
    const billing = spans.find((s) => s.kind === SpanKind.SERVER && attr(s, A.service) === 'subscription');
    expect(billing).toBeDefined();
    expect(parent(billing!)).toBe(billingFetch);
    expect(attr(billing!, A.subgraph)).toBe('subscription');
    expect(attr(billing!, 'graphql.operation.type')).toBe('mutation');
    expect(attr(billing!, A.correlationId)).toBe(correlationId);

    // Billing's SQL: statements under its request span, placeholders only, never values.
    const sqlOf = (span: ReadableSpan) =>
      spans.filter((s) => attr(s, 'db.system.name') === 'postgresql' && parent(s) === span);
    const billingSql = sqlOf(billing!);
    expect(billingSql.length).toBeGreaterThan(3);
    for (const statement of billingSql) {
      expect(statement.kind).toBe(SpanKind.CLIENT);
      expect(attr(statement, A.subgraph)).toBe('subscription');
    }
    const texts = billingSql.map((s) => String(attr(s, 'db.query.text')));
    expect(texts.some((t) => /insert into "subscription"\."outbox"/.test(t))).toBe(true);
    expect(texts.filter((t) => t.includes(subscriptionId))).toEqual([]);

    // The events billing committed continue the trace in the ERP and the CRM …
    const erpInvoice = consumerSpan(spans, 'finance.billing', 'invoice.issued')!;
    const erpContract = consumerSpan(spans, 'finance.billing', 'subscription.amended')!;
    const crm = consumerSpan(spans, 'customer.contract-value', 'subscription.amended')!;
    for (const [span, subgraph] of [
      [erpInvoice, 'finance'],
      [erpContract, 'finance'],
      [crm, 'customer'],
    ] as const) {
      expect(span).toBeDefined();
      expect(parent(span)).toBe(billing);
      expect(attr(span, A.service)).toBe(subgraph);
      expect(attr(span, A.applied)).toBe(true);
      expect(sqlOf(span).length).toBeGreaterThan(0);
      expect(sqlOf(span).every((s) => attr(s, A.subgraph) === subgraph)).toBe(true);
    }
    // … and their acknowledgements continue it into billing, which completes the amendment.
    const erpAck = consumerSpan(spans, 'subscription.erp-ack', 'invoice.posted')!;
    const crmAck = consumerSpan(spans, 'subscription.crm-ack', 'contract.synced')!;
    expect(parent(erpAck)).toBe(erpInvoice);
    expect(parent(crmAck)).toBe(crm);
    for (const ack of [erpAck, crmAck]) {
      expect(attr(ack, A.service)).toBe('subscription');
      expect(sqlOf(ack).length).toBeGreaterThan(0);
    }

    // Only this amendment's work is in the trace: no other event, no relay or bus polling.
    const consumers = spans.filter((s) => s.kind === SpanKind.CONSUMER);
    expect(consumers.every((s) => attr(s, A.correlationId) === correlationId)).toBe(true);
    const allSql = spans.filter((s) => attr(s, 'db.system.name') === 'postgresql');
    expect(allSql.filter((s) => /"?bus"?\.|published_at/.test(String(attr(s, 'db.query.text'))))).toEqual([]);
    expect(allSql.every((s) => [SpanKind.SERVER, SpanKind.CONSUMER].includes(parent(s)!.kind))).toBe(true);

    // The trace context travels in the CloudEvents `traceparent` extension, through the outbox and the bus.
    const issued = await stack.database.db
      .withSchema('subscription')
      .selectFrom('outbox')
      .select(['id', 'traceparent'])
      .where('correlation_id', '=', correlationId)
      .where('type', '=', 'invoice.issued')
      .executeTakeFirstOrThrow();
    expect(issued.traceparent).toBe(`00-${traceId}-${idOf(billing!)}-01`);
    const published = await stack.database.db
      .selectFrom('bus.message')
      .select('event')
      .where('id', '=', issued.id)
      .executeTakeFirstOrThrow();
    const event = typeof published.event === 'string' ? JSON.parse(published.event) : published.event;
    expect(event.traceparent).toBe(issued.traceparent);

    // The per-event loggers carry the trace id.
    const logged = (msg: string) =>
      logLines.filter((l) => l.msg === msg && l.correlationId === correlationId);
    expect(logged('billing document posted').map((l) => l.traceId)).toEqual([traceId]);
    expect(logged('amendment advanced').length).toBeGreaterThan(0);
    expect(logged('amendment advanced').every((l) => l.traceId === traceId)).toBe(true);
  });
});
