import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  context,
  createContextKey,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import type { ApolloServerPlugin } from '@apollo/server';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { LogEvent } from 'kysely';

/*
 * Tracing (docs/tracing.md): manual OpenTelemetry spans for a GraphQL request at the gateway, each
 * subgraph fetch, each subgraph request, each SQL statement, and each event a consumer applies —
 * the event's CloudEvents `traceparent` extension makes the consumer's span a child of the request
 * that appended it, so one amendment is one trace across billing, the ERP and the CRM.
 *
 * Off unless `setupTracing` installed a provider with somewhere to send spans: then every helper
 * here returns after one boolean check, and the OpenTelemetry API's no-op tracer (which Apollo
 * Gateway's own spans use) costs almost nothing.
 */

/** Span attributes of ours; the rest are OpenTelemetry semantic conventions. */
export const TRACE_ATTRIBUTES = {
  /** Who recorded the span: `gateway` or a subgraph name (one process may run them all). */
  service: 'c2c.service',
  /** The subgraph a span is about: the one it ran in, or the one a gateway fetch went to. */
  subgraph: 'c2c.subgraph',
  consumer: 'c2c.consumer',
  correlationId: 'c2c.correlation_id',
  requestId: 'c2c.request_id',
  /** On a consumer span: false when the inbox already had the event (a redelivery, no effect). */
  applied: 'c2c.event.applied',
} as const;

const A = TRACE_ATTRIBUTES;
const TRACER = 'c2c';
/** Longest SQL text kept on a span; statements carry placeholders, never parameter values. */
const MAX_SQL_CHARS = 2000;

const SERVICE_KEY = createContextKey('c2c.service');
const SUBGRAPH_KEY = createContextKey('c2c.subgraph');
const REQUEST_SPAN_KEY = createContextKey('c2c.request-span');

let provider: NodeTracerProvider | null = null;

export interface TracingOptions {
  /** `service.name` of this process's spans (OTEL_SERVICE_NAME overrides it). */
  serviceName: string;
  /** Where spans go (tests: an InMemorySpanExporter). Without it, OTLP when the environment names an endpoint. */
  exporter?: SpanExporter;
  /**
   * The process environment (entry points pass `process.env`): OTEL_EXPORTER_OTLP_ENDPOINT or
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT switch OTLP/HTTP export on; the exporter reads its other
   * OTEL_EXPORTER_OTLP_* variables itself.
   */
  env?: Record<string, string | undefined>;
}

export interface Tracing {
  /** True when spans are recorded and exported. */
  enabled: boolean;
  /** Exports what is buffered, stops exporting and unregisters the provider. */
  shutdown(): Promise<void>;
}

/** True when `setupTracing` installed a provider in this process. */
export function tracingEnabled(): boolean {
  return provider !== null;
}

/**
 * Installs the process's tracer provider once: W3C trace context propagation, AsyncLocalStorage
 * context, and the exporter (`options.exporter`, else OTLP/HTTP when the environment names an
 * endpoint, else nothing is installed and tracing stays off).
 */
export function setupTracing(options: TracingOptions): Tracing {
  if (provider) throw new Error('tracing is already set up in this process');
  const env = options.env ?? {};
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, '');
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (base ? `${base}/v1/traces` : undefined);
  if (!options.exporter && !url) return { enabled: false, shutdown: async () => {} };
  const processor = options.exporter
    ? new SimpleSpanProcessor(options.exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter({ url }));
  const installed = new NodeTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || options.serviceName }),
    ),
    spanProcessors: [processor],
  });
  installed.register({ propagator: new W3CTraceContextPropagator() });
  provider = installed;
  return {
    enabled: true,
    shutdown: async () => {
      if (provider !== installed) return;
      provider = null;
      await installed.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

const tracer = () => trace.getTracer(TRACER);

function failed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** Runs `work` in `span`'s context (plus our context values), ending the span when it settles. */
async function inSpan<T>(span: Span, ctx: Context, work: () => Promise<T>): Promise<T> {
  try {
    return await context.with(ctx, work);
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** How a GraphQL HTTP server traces its requests. */
export interface RequestTracing {
  service: string;
  /** Set on a subgraph: its spans and SQL carry it. */
  subgraph?: string;
  /**
   * Continue the caller's trace from its `traceparent` header (subgraphs: the caller is the
   * gateway); otherwise every request starts a trace (the gateway, the edge).
   */
  continueTrace: boolean;
}

/** A SERVER span around one HTTP request to /graphql, renamed to the operation by `graphqlTracingPlugin`. */
export function traceRequest<T>(
  how: RequestTracing,
  req: IncomingMessage,
  res: ServerResponse,
  work: () => Promise<T>,
): Promise<T> {
  if (!provider) return work();
  const parent = how.continueTrace ? propagation.extract(ROOT_CONTEXT, req.headers) : ROOT_CONTEXT;
  const method = req.method ?? 'GET';
  const span = tracer().startSpan(
    `${method} /graphql`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        [A.service]: how.service,
        ...(how.subgraph ? { [A.subgraph]: how.subgraph } : {}),
        'http.request.method': method,
        'url.path': '/graphql',
      },
    },
    parent,
  );
  let ctx = trace.setSpan(parent, span).setValue(SERVICE_KEY, how.service).setValue(REQUEST_SPAN_KEY, span);
  if (how.subgraph) ctx = ctx.setValue(SUBGRAPH_KEY, how.subgraph);
  return inSpan(span, ctx, async () => {
    const result = await work();
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    return result;
  });
}

/**
 * Names the request's span after the GraphQL operation and tags it with the operation type, the
 * correlation id and the request id; marks it failed when the operation ends with errors.
 */
export function graphqlTracingPlugin<
  C extends { correlationId: string; requestId: string },
>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ contextValue }) {
      if (!provider) return;
      const span = context.active().getValue(REQUEST_SPAN_KEY) as Span | undefined;
      if (!span) return;
      span.setAttributes({
        [A.correlationId]: contextValue.correlationId,
        [A.requestId]: contextValue.requestId,
      });
      return {
        async didResolveOperation({ operationName, operation }) {
          const name = operationName ?? operation?.name?.value;
          if (name) span.updateName(name);
          span.setAttributes({
            ...(operation ? { 'graphql.operation.type': operation.operation } : {}),
            ...(name ? { 'graphql.operation.name': name } : {}),
          });
        },
        async didEncounterErrors({ errors }) {
          const codes = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'ERROR')))];
          span.setAttribute('graphql.error.codes', codes);
          span.setStatus({ code: SpanStatusCode.ERROR, message: codes.join(', ') });
        },
      };
    },
  };
}

/**
 * A CLIENT span around one request from the gateway to a subgraph (retries included); `work` gets
 * the headers that carry the trace to the subgraph (`traceHeaders`) from inside it.
 */
export function traceSubgraphFetch<T extends { status: number }>(
  subgraph: string,
  work: () => Promise<T>,
): Promise<T> {
  if (!provider) return work();
  const parent = context.active();
  const span = tracer().startSpan(
    `fetch ${subgraph}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { [A.service]: 'gateway', [A.subgraph]: subgraph, 'http.request.method': 'POST' },
    },
    parent,
  );
  return inSpan(span, trace.setSpan(parent, span), async () => {
    const response = await work();
    span.setAttribute('http.response.status_code', response.status);
    if (response.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
    return response;
  });
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** The W3C trace context (`traceparent`) of the active span, as headers for an outgoing request. */
export function traceHeaders(): Readonly<Record<string, string>> {
  if (!provider) return NO_HEADERS;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** The active span's `traceparent`, for the CloudEvents distributed tracing extension of an event. */
export function currentTraceparent(): string | undefined {
  if (!provider) return undefined;
  return traceHeaders().traceparent;
}

/** `{ traceId }` of the active span for a child logger, or nothing when there is no trace. */
export function traceLogFields(): { traceId?: string } {
  if (!provider) return {};
  const span = trace.getActiveSpan();
  return span?.isRecording() ? { traceId: span.spanContext().traceId } : {};
}

const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** What an event span is about. */
export interface EventSpanTarget {
  /** The subgraph whose consumer handles the event. */
  subgraph: string;
  consumer: string;
  /** `process` (applying it) or `dead-letter` (recording that a consumer gave up). */
  operation: 'process' | 'dead-letter';
}

/**
 * What a consumer span reads of a CloudEvent (declared here, not imported, so that tracing stays
 * below the event code that uses it: events → tracing, never back).
 */
export interface TracedEvent {
  id: string;
  type: string;
  source: string;
  subject: string;
  correlationid: string;
  traceparent?: string;
}

/**
 * A CONSUMER span around handling one event, child of the event's `traceparent` (so the request
 * that appended it and everything its consumers do form one trace); a span active at the call (an
 * operator's replay request) is linked. Without a `traceparent` the span starts a trace of its own.
 */
export function traceEvent<T>(
  event: TracedEvent,
  target: EventSpanTarget,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  if (!provider) return work(NO_SPAN);
  const caller = trace.getSpan(context.active());
  const parent = event.traceparent
    ? propagation.extract(ROOT_CONTEXT, { traceparent: event.traceparent })
    : ROOT_CONTEXT;
  const links: Link[] = caller?.isRecording() ? [{ context: caller.spanContext() }] : [];
  const span = tracer().startSpan(
    `${target.operation} ${event.type}`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        [A.service]: target.subgraph,
        [A.subgraph]: target.subgraph,
        [A.consumer]: target.consumer,
        [A.correlationId]: event.correlationid,
        'messaging.operation.type': 'process',
        'messaging.consumer.group.name': target.consumer,
        'messaging.message.id': event.id,
        'messaging.destination.name': event.type,
        'cloudevents.event_id': event.id,
        'cloudevents.event_type': event.type,
        'cloudevents.event_source': event.source,
        'cloudevents.event_subject': event.subject,
      },
    },
    parent,
  );
  const ctx = trace
    .setSpan(parent, span)
    .setValue(SERVICE_KEY, target.subgraph)
    .setValue(SUBGRAPH_KEY, target.subgraph);
  return inSpan(span, ctx, () => work(span));
}

/**
 * Records a finished SQL statement (Kysely's log event) as a CLIENT span under the active span.
 * Statements outside a traced request or event (relay and consumer polls) are not recorded, so
 * background work never joins a request's trace nor floods the backend with one-span traces.
 */
export function recordQuerySpan(event: LogEvent): void {
  if (!provider) return;
  const active = context.active();
  if (!trace.getSpan(active)?.isRecording()) return;
  const end = performance.timeOrigin + performance.now();
  const text = event.query.sql;
  const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
  const service = active.getValue(SERVICE_KEY) as string | undefined;
  const subgraph = active.getValue(SUBGRAPH_KEY) as string | undefined;
  const attributes: Attributes = {
    'db.system.name': 'postgresql',
    'db.operation.name': operation,
    'db.query.text': text.length > MAX_SQL_CHARS ? `${text.slice(0, MAX_SQL_CHARS)}…` : text,
    ...(service ? { [A.service]: service } : {}),
    ...(subgraph ? { [A.subgraph]: subgraph } : {}),
  };
  const span = tracer().startSpan(
    operation,
    { kind: SpanKind.CLIENT, startTime: end - event.queryDurationMillis, attributes },
    active,
  );
  if (event.level === 'error') failed(span, event.error);
  span.end(end);
}
