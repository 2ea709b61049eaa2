import { isValidIsoDate, z } from '@c2c/platform/core';
import type { CloudEvent } from '@c2c/platform/events';
import {
  type DeadLetterEffect,
  type EventEffect,
  readingMany,
  readingWithExternalWrite,
} from '@c2c/platform/events/reading';
import { isUuid, normalizeId } from '../domain/ids.ts';
import type { BillingDocument, PostingService } from '../domain/posting.service.ts';
import type { ReplicaService } from '../domain/replica.service.ts';

const id = z.string().refine(isUuid, 'expected a UUID').transform(normalizeId);
const isoDate = z.string().refine(isValidIsoDate, 'expected a date YYYY-MM-DD');
const minor = z.number().int().refine(Number.isSafeInteger, 'expected a safe integer');

/** What the ERP reads from `invoice.issued` / `creditnote.issued` (tolerant reader: other fields are ignored). */
const BillingDocumentData = z.object({
  id,
  number: z.string().min(1),
  kind: z.enum(['INVOICE', 'CREDIT_NOTE']),
  customerId: id,
  subscriptionId: id.nullable(),
  businessUnit: z.string(),
  currency: z.string().length(3),
  issuedOn: isoDate,
  dueOn: isoDate,
  subtotalMinor: minor,
  taxMinor: minor,
  totalMinor: minor,
  lines: z.array(
    z.object({
      id: z.string().min(1),
      description: z.string().optional(),
      amountMinor: minor,
      taxMinor: minor.optional(),
      taxRatePpm: z.number().int().min(0).optional(),
      periodStart: isoDate,
      periodEnd: isoDate,
    }),
  ),
  orderId: id.nullish(),
});

/** What the ERP's contract record keeps from `subscription.*` events. */
const SubscriptionData = z.object({
  id,
  customerId: id,
  planCode: z.string(),
  billingPeriod: z.string(),
  status: z.string(),
  seats: z.number().int(),
  unitPriceMinor: minor,
  currency: z.string().length(3),
  startDate: isoDate,
  currentPeriod: z.object({ start: isoDate, end: isoDate }).nullish(),
  version: z.number().int(),
});

/** The kind of document each event type carries. */
const KIND_OF: Record<string, BillingDocument['kind']> = {
  'invoice.issued': 'INVOICE',
  'creditnote.issued': 'CREDIT_NOTE',
};

/**
 * One effect for invoices and credit notes alike, so that a batch applies a subscription's
 * documents in the order they were issued (a credit note pays the invoices there are when it
 * arrives): a batch gathers one effect's events into a run, and keeps order only per subject.
 */
function documentEffect(posting: PostingService): EventEffect {
  const ofKind = (doc: BillingDocument, type: string) => {
    if (doc.kind !== KIND_OF[type]) throw new Error(`${type} carries a document of kind ${doc.kind}`);
  };
  const causalityOf = (event: CloudEvent) => ({
    correlationId: event.correlationid,
    causationId: event.id,
    // Applied many at once, outside the event's own span: its outbox row continues the event's trace.
    ...(event.traceparent ? { traceparent: event.traceparent } : {}),
  });
  // The built-in ledger has nothing to write outside: no prepare phase (and no inbox look-up for
  // it), and a batch's documents are posted together.
  if (!posting.external)
    return readingMany(BillingDocumentData, async (trx, items) => {
      for (const { data, event } of items) ofKind(data, event.type);
      await posting.post(
        trx,
        items.map(({ data, event, log }) => ({
          doc: data,
          causality: causalityOf(event),
          log,
          external: null,
        })),
      );
    });
  return readingWithExternalWrite(
    BillingDocumentData,
    async (doc, event, log) => {
      ofKind(doc, event.type);
      return posting.publish(doc, log);
    },
    async (trx, doc, event, log, external) => {
      ofKind(doc, event.type);
      await posting.post(trx, [{ doc, causality: causalityOf(event), log, external }]);
    },
  );
}

function subscriptionEffect(replicas: ReplicaService): EventEffect {
  // Applied many at a time in a batch: one upsert for all the contract records.
  return readingMany(SubscriptionData, async (trx, items) => {
    const written = await replicas.applyContracts(
      trx,
      items.map(({ data }) => ({
        subscription_id: data.id,
        customer_id: data.customerId,
        plan_code: data.planCode,
        billing_period: data.billingPeriod,
        status: data.status,
        seats: data.seats,
        unit_price_minor: data.unitPriceMinor,
        currency: data.currency,
        start_date: data.startDate,
        period_start: data.currentPeriod?.start ?? null,
        period_end: data.currentPeriod?.end ?? null,
        version: data.version,
      })),
    );
    items.forEach(({ data, log }, i) => {
      if (!written[i])
        log.debug(
          { subscriptionId: data.id, version: data.version },
          'subscription event not applied: a newer version covers it',
        );
    });
  });
}

/** Consumer `finance.billing`: posts billing documents and keeps the contract record. */
export function billingConsumer(
  posting: PostingService,
  replicas: ReplicaService,
): Record<string, EventEffect> {
  const applySubscription = subscriptionEffect(replicas);
  const documents = documentEffect(posting);
  return {
    'invoice.issued': documents,
    'creditnote.issued': documents,
    'subscription.created': applySubscription,
    'subscription.renewed': applySubscription,
    'subscription.amended': applySubscription,
    'subscription.cancelled': applySubscription,
  };
}

/** Only what is needed to say which document failed: the event itself may be the malformed part. */
const FailedDocument = z.object({
  id: z.string().min(1),
  amendmentId: z.string().nullish(),
  orderId: z.string().nullish(),
});

/**
 * The ERP's dead-letter reaction: when `finance.billing` gives up on an invoice or credit note,
 * announce `posting.failed` in the same transaction, so billing can show the document (and the
 * amendment that issued it) as failed. Contract records (`subscription.*`) concern no document.
 */
export function onBillingDeadLetter(posting: PostingService): DeadLetterEffect {
  return async (trx, event, failure, log) => {
    if (failure.consumer !== 'finance.billing') return;
    if (event.type !== 'invoice.issued' && event.type !== 'creditnote.issued') return;
    const parsed = FailedDocument.safeParse(event.data);
    const invoiceId = parsed.success ? parsed.data.id : event.subject;
    const amendmentId = parsed.success ? parsed.data.amendmentId : null;
    const orderId = parsed.success ? parsed.data.orderId : null;
    await posting.announceFailed(
      trx,
      {
        invoiceId,
        amendmentId: amendmentId ?? null,
        orderId: orderId ?? null,
        error: failure.error,
        attempts: failure.attempts,
      },
      { correlationId: event.correlationid, causationId: event.id },
    );
    log.warn(
      { invoiceId, amendmentId, correlationId: event.correlationid, attempts: failure.attempts },
      'billing document not posted',
    );
  };
}
