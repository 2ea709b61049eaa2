import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSchemaCheck } from '../../src/check/index.ts';
import { formatText } from '../../src/check/report.ts';
import { diffEventContracts, readEventContracts, type JsonSchema } from '../../src/events/contracts.ts';
import { ROOT, currentBaseline, tempDir } from './fixtures.ts';

const EVENTS = join(ROOT, 'schema', 'events');

/** A copy of schema/events with one schema edited. */
function editedContracts(type: string, edit: (schema: JsonSchema) => void): string {
  const dir = join(tempDir(), 'events');
  cpSync(EVENTS, dir, { recursive: true });
  const file = join(dir, `${type}.schema.json`);
  const schema = JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
  edit(schema);
  writeFileSync(file, JSON.stringify(schema, null, 2));
  return dir;
}

function dropField(schema: JsonSchema, field: string): void {
  delete schema.properties![field];
  schema.required = schema.required!.filter((f) => f !== field);
  for (const example of schema.examples as Record<string, unknown>[]) delete example[field];
}

async function checkWith(events: string) {
  return runSchemaCheck({
    root: ROOT,
    base: currentBaseline(),
    eventsBase: EVENTS,
    paths: { events },
  });
}

describe('Event Contract check', () => {
  it('passes on the committed contracts', async () => {
    const report = await checkWith(EVENTS);
    const task = report.tasks.find((t) => t.task === 'Event Contract')!;
    expect(task.findings.filter((f) => f.severity !== 'PASS')).toEqual([]);
    expect(task.status).toBe('PASSED');
  });

  it('fails when a field is removed, naming the event type and the consumers that read it', async () => {
    const report = await checkWith(editedContracts('invoice.issued', (s) => dropField(s, 'dueOn')));
    expect(report.ok).toBe(false);
    const task = report.tasks.find((t) => t.task === 'Event Contract')!;
    expect(task.status).toBe('FAILED');
    expect(task.findings).toContainEqual(
      expect.objectContaining({
        severity: 'FAIL',
        code: 'EVENT_FIELD_REMOVED',
        description: "invoice.issued: field 'dueOn' was removed (or renamed); read by finance.billing",
      }),
    );
    // docs/events.md still lists the field: stale too.
    expect(task.findings.map((f) => f.code)).toContain('EVENTS_DOC_STALE');
    expect(formatText(report)).toMatch(
      /FAIL\s+\| EVENT_FIELD_REMOVED\s+\| invoice\.issued: field 'dueOn'.*finance\.billing/,
    );
  });

  it('reports a renamed nested field as removed, and an added one as accepted', () => {
    const base = readEventContracts(EVENTS);
    const next = readEventContracts(
      editedContracts('subscription.amended', (s) => {
        const period = s.properties!.currentPeriod!;
        period.properties!.from = period.properties!.start!;
        delete period.properties!.start;
        period.required = ['from', 'end'];
      }),
    );
    const findings = diffEventContracts(base, next).filter((f) => f.eventType === 'subscription.amended');
    expect(findings.map((f) => `${f.severity} ${f.code} ${f.description}`)).toEqual([
      "FAIL EVENT_FIELD_REMOVED subscription.amended: field 'currentPeriod.start' was removed (or renamed); read by customer.contract-value, finance.billing",
      "PASS EVENT_FIELD_ADDED subscription.amended: field 'currentPeriod.from' added",
    ]);
  });

  it('fails on a widened type, a required field made optional and a removed event type', () => {
    const base = readEventContracts(EVENTS);
    const widened = readEventContracts(
      editedContracts('payment.applied', (s) => {
        s.properties!.amountDueMinor!.type = ['integer', 'null'];
        s.required = s.required!.filter((f) => f !== 'invoiceId');
      }),
    );
    expect(
      diffEventContracts(base, widened)
        .filter((f) => f.severity === 'FAIL')
        .map((f) => f.code),
    ).toEqual(['EVENT_FIELD_NO_LONGER_REQUIRED', 'EVENT_FIELD_CHANGED_TYPE']);
    const removed = { ...base, schemas: { ...base.schemas } };
    delete removed.schemas['posting.failed'];
    expect(diffEventContracts(base, removed)).toContainEqual(
      expect.objectContaining({
        code: 'EVENT_TYPE_REMOVED',
        consumers: ['subscription.erp-ack', 'customer.order'],
      }),
    );
  });

  it('fails when the catalog and the schemas disagree, or an example does not match its schema', async () => {
    const dir = editedContracts('posting.failed', (s) => {
      (s.examples as Record<string, unknown>[])[0]!.attempts = 'five';
    });
    const catalog = JSON.parse(readFileSync(join(dir, 'catalog.json'), 'utf8'));
    catalog.events['invoice.voided'] = {
      producer: 'billing',
      subject: 'invoice id',
      consumers: ['erp.ledger'],
    };
    writeFileSync(join(dir, 'catalog.json'), JSON.stringify(catalog));
    const task = (await checkWith(dir)).tasks.find((t) => t.task === 'Event Contract')!;
    expect(task.findings.filter((f) => f.severity === 'FAIL').map((f) => f.code)).toEqual(
      expect.arrayContaining([
        'EVENT_SCHEMA_MISSING',
        'EVENT_PRODUCER_UNKNOWN',
        'EVENT_CONSUMER_UNKNOWN',
        'EVENT_CONSUMER_UNDESCRIBED',
        'EVENT_EXAMPLE_INVALID',
      ]),
    );
  });
});

describe('inbound contracts (schema/events/ingest)', () => {
  /** A copy of schema/events with the usage ingestion contract edited. */
  function editedIngest(edit: (schema: JsonSchema) => void): string {
    const dir = join(tempDir(), 'events');
    cpSync(EVENTS, dir, { recursive: true });
    const file = join(dir, 'ingest', 'usage.ingest.v1.schema.json');
    const schema = JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
    edit(schema);
    writeFileSync(file, JSON.stringify(schema, null, 2));
    return dir;
  }

  it('fails when a published version changes, and when an example does not match', async () => {
    const report = await checkWith(
      editedIngest((schema) => {
        (schema.properties!.events as JsonSchema).maxItems = 500;
        (schema.examples as { version: number }[])[0]!.version = 2;
      }),
    );
    expect(report.ok).toBe(false);
    const codes = report.tasks.find((t) => t.task === 'Event Contract')!.findings.map((f) => f.code);
    expect(codes).toContain('INGEST_CONTRACT_CHANGED');
    expect(codes).toContain('INGEST_EXAMPLE_INVALID');
  });
});
