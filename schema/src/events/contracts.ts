import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { EventCatalog } from './catalog.ts';
import { subgraphOfConsumer } from './catalog.ts';

/** The subset of JSON Schema the event contracts use. */
export interface JsonSchema {
  title?: string;
  description?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  pattern?: string;
  examples?: unknown[];
  [key: string]: unknown;
}

/** The catalog and one data schema per event type, as read from a directory (schema/events/). */
export interface EventContracts {
  catalog: EventCatalog;
  schemas: Record<string, JsonSchema>;
  /** Inbound contracts (ingest/), when read with them: a baseline to compare with. */
  ingest?: Record<string, JsonSchema>;
}

/** A contract problem or change, in the schema check's terms. */
export interface EventFinding {
  severity: 'FAIL' | 'WARN' | 'PASS';
  code: string;
  description: string;
  /** The event type it concerns. */
  eventType?: string;
  /** The durable consumers that read that event type. */
  consumers?: string[];
}

export const CATALOG_FILE = 'catalog.json';
const SCHEMA_SUFFIX = '.schema.json';

/** Reads `catalog.json` and every `<type>.schema.json` of a directory; throws naming the bad file. */
export function readEventContracts(dir: string): EventContracts {
  return eventContractsFromFiles(
    (name) => {
      const path = join(dir, name);
      return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    },
    existsSync(dir) ? readdirSync(dir) : [],
  );
}

/** Builds the contracts from file contents (a directory, or files read from a git revision). */
export function eventContractsFromFiles(
  read: (name: string) => string | undefined,
  names: readonly string[],
): EventContracts {
  const parse = (name: string): unknown => {
    const text = read(name);
    if (text === undefined) throw new Error(`${name} not found`);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new Error(`${name} is not valid JSON: ${(error as Error).message}`);
    }
  };
  const catalog = parse(CATALOG_FILE) as EventCatalog;
  if (typeof catalog !== 'object' || catalog === null || typeof catalog.events !== 'object')
    throw new Error(`${CATALOG_FILE} must be an object with "events" and "consumers"`);
  catalog.consumers ??= {};
  const schemas: Record<string, JsonSchema> = {};
  for (const name of names) {
    if (!name.endsWith(SCHEMA_SUFFIX)) continue;
    schemas[name.slice(0, -SCHEMA_SUFFIX.length)] = parse(name) as JsonSchema;
  }
  return { catalog, schemas };
}

/** The file that holds an event type's data schema. */
export function schemaFileOf(type: string): string {
  return `${type}${SCHEMA_SUFFIX}`;
}

function newAjv(): Ajv2020 {
  // Strict: an unknown keyword or format in a contract is an error, not silently ignored.
  return new Ajv2020({ strict: true, allErrors: true, strictTuples: false });
}

/** A validator of event data against the contracts: returns the problems, or an empty list. */
export type EventDataValidator = (type: string, data: unknown) => string[];

/** Compiles every data schema once. Unknown event types are reported as a problem. */
export function createEventValidator(contracts: EventContracts): EventDataValidator {
  const ajv = newAjv();
  const compiled = new Map(
    Object.entries(contracts.schemas).map(([type, schema]) => [type, ajv.compile(schema)] as const),
  );
  return (type, data) => {
    const validate = compiled.get(type);
    if (!validate) return [`${type} has no contract in schema/events/`];
    if (validate(data)) return [];
    return (validate.errors ?? []).map((e) => `${type}: data${e.instancePath} ${e.message ?? 'is invalid'}`);
  };
}

/**
 * The catalog's own consistency, for the given subgraph names (rover.yaml): every type has a
 * schema and every schema a type; producers and consumers belong to known subgraphs; every
 * consumer is described; every schema compiles and its examples validate.
 */
export function checkEventContracts(contracts: EventContracts, subgraphs: readonly string[]): EventFinding[] {
  const findings: EventFinding[] = [];
  const fail = (code: string, description: string, eventType?: string) =>
    findings.push({ severity: 'FAIL', code, description, ...(eventType ? { eventType } : {}) });
  const { catalog, schemas } = contracts;
  const listedConsumers = new Set<string>();
  for (const [type, entry] of Object.entries(catalog.events)) {
    if (!schemas[type])
      fail('EVENT_SCHEMA_MISSING', `${type} is in the catalog but has no ${schemaFileOf(type)}`, type);
    if (!subgraphs.includes(entry.producer))
      fail(
        'EVENT_PRODUCER_UNKNOWN',
        `${type} is produced by ${entry.producer}, which is not a subgraph of rover.yaml`,
        type,
      );
    for (const consumer of entry.consumers) {
      listedConsumers.add(consumer);
      if (!subgraphs.includes(subgraphOfConsumer(consumer)))
        fail(
          'EVENT_CONSUMER_UNKNOWN',
          `${type} names consumer ${consumer}, whose subgraph is not in rover.yaml`,
          type,
        );
    }
  }
  for (const consumer of listedConsumers)
    if (!catalog.consumers[consumer])
      fail(
        'EVENT_CONSUMER_UNDESCRIBED',
        `consumer ${consumer} has no description in the catalog's "consumers"`,
      );
  for (const consumer of Object.keys(catalog.consumers))
    if (!listedConsumers.has(consumer))
      fail('EVENT_CONSUMER_UNUSED', `consumer ${consumer} is described but reads no event type`);
  const ajv = newAjv();
  for (const [type, schema] of Object.entries(schemas)) {
    if (!catalog.events[type]) {
      fail(
        'EVENT_TYPE_UNLISTED',
        `${schemaFileOf(type)} describes ${type}, which is not in the catalog`,
        type,
      );
      continue;
    }
    if (schema.title !== type)
      fail('EVENT_SCHEMA_TITLE', `${schemaFileOf(type)} must have "title": "${type}"`, type);
    let validate;
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      fail('EVENT_SCHEMA_INVALID', `${schemaFileOf(type)}: ${(error as Error).message}`, type);
      continue;
    }
    if (!schema.examples?.length)
      fail(
        'EVENT_EXAMPLE_MISSING',
        `${schemaFileOf(type)} needs at least one example (a full event's data)`,
        type,
      );
    for (const example of schema.examples ?? [])
      if (!validate(example))
        fail(
          'EVENT_EXAMPLE_INVALID',
          `${schemaFileOf(type)}: an example does not match the schema: ${ajv.errorsText(validate.errors)}`,
          type,
        );
  }
  return findings;
}

function typesOf(schema: JsonSchema): string[] {
  const t = schema.type;
  return t === undefined ? [] : (Array.isArray(t) ? t : [t]).slice().sort();
}

/**
 * What a change of the contracts means for consumers. Breaking (FAIL): an event type removed, a
 * field removed or renamed, a field's type widened to values a reader never saw, a required field
 * made optional. Dangerous (WARN): enum values added, a pattern changed. Safe (PASS): fields and
 * types added, types narrowed.
 */
export function diffEventContracts(base: EventContracts, next: EventContracts): EventFinding[] {
  const findings: EventFinding[] = [];
  for (const [type, baseSchema] of Object.entries(base.schemas)) {
    const consumers = next.catalog.events[type]?.consumers ?? base.catalog.events[type]?.consumers ?? [];
    const add = (severity: EventFinding['severity'], code: string, what: string) =>
      findings.push({
        severity,
        code,
        eventType: type,
        consumers,
        description: `${type}: ${what}${severity === 'PASS' ? '' : `; read by ${consumers.length ? consumers.join(', ') : 'no consumer'}`}`,
      });
    const nextSchema = next.schemas[type];
    if (!nextSchema) {
      add('FAIL', 'EVENT_TYPE_REMOVED', 'the event type was removed');
      continue;
    }
    walk(baseSchema, nextSchema, '', add);
  }
  for (const type of Object.keys(next.schemas))
    if (!base.schemas[type])
      findings.push({
        severity: 'PASS',
        code: 'EVENT_TYPE_ADDED',
        eventType: type,
        description: `${type}: new event type`,
      });
  return findings;
}

function walk(
  base: JsonSchema,
  next: JsonSchema,
  path: string,
  add: (severity: EventFinding['severity'], code: string, what: string) => void,
): void {
  const where = path || 'data';
  const baseTypes = typesOf(base);
  const nextTypes = typesOf(next);
  const widened = nextTypes.filter(
    (t) =>
      !baseTypes.includes(t) &&
      !(t === 'number' && baseTypes.includes('integer')) &&
      !(t === 'integer' && baseTypes.includes('number')),
  );
  if (baseTypes.length && (nextTypes.length === 0 || widened.length))
    add(
      'FAIL',
      'EVENT_FIELD_CHANGED_TYPE',
      `'${where}' changed type from ${baseTypes.join('|')} to ${nextTypes.join('|') || 'any'}`,
    );
  if (base.enum && next.enum) {
    const added = next.enum.filter((v) => !base.enum!.includes(v));
    if (added.length)
      add('WARN', 'EVENT_ENUM_VALUE_ADDED', `'${where}' may now be ${added.map(String).join(', ')}`);
  } else if (base.enum && !next.enum)
    add(
      'WARN',
      'EVENT_ENUM_VALUE_ADDED',
      `'${where}' is no longer limited to ${base.enum.map(String).join(', ')}`,
    );
  if (base.pattern !== undefined && base.pattern !== next.pattern)
    add(
      'WARN',
      'EVENT_FIELD_PATTERN_CHANGED',
      `'${where}' pattern changed from ${base.pattern} to ${next.pattern ?? 'none'}`,
    );
  const baseProps = base.properties ?? {};
  const nextProps = next.properties ?? {};
  const baseRequired = new Set(base.required ?? []);
  const nextRequired = new Set(next.required ?? []);
  for (const [name, baseProp] of Object.entries(baseProps)) {
    const field = path ? `${path}.${name}` : name;
    const nextProp = nextProps[name];
    if (!nextProp) {
      add('FAIL', 'EVENT_FIELD_REMOVED', `field '${field}' was removed (or renamed)`);
      continue;
    }
    if (baseRequired.has(name) && !nextRequired.has(name))
      add('FAIL', 'EVENT_FIELD_NO_LONGER_REQUIRED', `field '${field}' is no longer always present`);
    walk(baseProp, nextProp, field, add);
  }
  for (const name of Object.keys(nextProps))
    if (!baseProps[name])
      add('PASS', 'EVENT_FIELD_ADDED', `field '${path ? `${path}.${name}` : name}' added`);
  if (base.items && next.items) walk(base.items, next.items, `${path}[]`, add);
}

/**
 * The smallest data the contract allows that keeps `value`'s required fields: every optional
 * field dropped, recursively. A tolerant reader must accept it as well as the full example.
 */
export function minimalInstance(schema: JsonSchema, value: unknown): unknown {
  if (Array.isArray(value)) return schema.items ? value.map((v) => minimalInstance(schema.items!, v)) : value;
  if (value === null || typeof value !== 'object' || !schema.properties) return value;
  const required = new Set(schema.required ?? []);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!required.has(key)) continue;
    const property = schema.properties[key];
    out[key] = property ? minimalInstance(property, v) : v;
  }
  return out;
}

function fieldList(schema: JsonSchema): string {
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const parts = Object.entries(props).map(([name, prop]) => {
    const optional = required.has(name) ? '' : '?';
    if (prop.properties) return `${name}${optional}: ${fieldList(prop)}`;
    if (prop.items?.properties) return `${name}${optional}: [${fieldList(prop.items)}]`;
    return `${name}${optional}`;
  });
  return `{ ${parts.join(', ')} }`;
}

/** The markdown tables of docs/events.md that are generated from the contracts. */
export function renderEventTables(contracts: EventContracts): string {
  const { catalog, schemas } = contracts;
  const rows = Object.entries(catalog.events).map(([type, entry]) => {
    const schema = schemas[type] ?? {};
    return `| \`${type}\` | ${entry.producer} | ${entry.subject} | \`${fieldList(schema)}\` | ${entry.consumers.map((c) => `\`${c}\``).join(', ')} | ${schema.description ?? ''} |`;
  });
  const consumerRows = Object.entries(catalog.consumers).map(([consumer, effect]) => {
    const types = Object.entries(catalog.events)
      .filter(([, e]) => e.consumers.includes(consumer))
      .map(([t]) => `\`${t}\``);
    return `| \`${consumer}\` | ${subgraphOfConsumer(consumer)} | ${types.join(', ')} | ${effect} |`;
  });
  return [
    '| type | producer | subject | data | consumers | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '### Consumers',
    '',
    '| consumer (durable name) | subgraph | types | effect |',
    '| --- | --- | --- | --- |',
    ...consumerRows,
  ].join('\n');
}

export const DOC_START = '<!-- generated from schema/events/ by `npm run compose`; do not edit by hand -->';
export const DOC_END = '<!-- end of generated event catalog -->';

/** `doc` with its generated section replaced by `tables`; throws when the markers are missing. */
export function withEventTables(doc: string, tables: string): string {
  const start = doc.indexOf(DOC_START);
  const end = doc.indexOf(DOC_END);
  if (start < 0 || end < start) throw new Error(`docs/events.md lacks the markers ${DOC_START} … ${DOC_END}`);
  return `${doc.slice(0, start + DOC_START.length)}\n\n${tables}\n\n${doc.slice(end)}`;
}

/** A markdown table line with its cells trimmed and rules shortened, so that table alignment does not matter. */
function normalizeLine(line: string): string {
  const trimmed = line.trim();
  if (!trimmed.startsWith('|')) return trimmed;
  return trimmed
    .split('|')
    .map((cell) => cell.trim())
    .map((cell) => (/^:?-+:?$/.test(cell) ? '---' : cell))
    .join('|');
}

/** The generated section of docs/events.md, normalised; undefined when the markers are missing. */
export function generatedSection(doc: string): string | undefined {
  const start = doc.indexOf(DOC_START);
  const end = doc.indexOf(DOC_END);
  if (start < 0 || end < start) return undefined;
  return normalizeTables(doc.slice(start + DOC_START.length, end));
}

/** Text with table alignment and blank lines ignored. */
export function normalizeTables(text: string): string {
  return text
    .split('\n')
    .map(normalizeLine)
    .filter((l) => l !== '')
    .join('\n');
}

/*
 * Inbound contracts (schema/events/ingest/): payloads that producers outside the supergraph publish on
 * the backbone for a subgraph to consume (usage events). One file per version,
 * `<name>.v<N>.schema.json`; a published version never changes (a producer relies on exactly it):
 * a new shape is a new version, read beside the old one.
 */

export const INGEST_DIR = 'ingest';
const INGEST_FILE = /^([a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)*\.v[1-9][0-9]*)\.schema\.json$/;

/** The inbound contracts of a contracts directory (its `ingest/`), by `<name>.v<N>`. */
export function readIngestContracts(dir: string): Record<string, JsonSchema> {
  const ingest = join(dir, INGEST_DIR);
  if (!existsSync(ingest)) return {};
  return ingestContractsFromFiles((name) => readFileSync(join(ingest, name), 'utf8'), readdirSync(ingest));
}

/** Builds the inbound contracts from file contents (a directory, or files read from a git revision). */
export function ingestContractsFromFiles(
  read: (name: string) => string | undefined,
  names: readonly string[],
): Record<string, JsonSchema> {
  const schemas: Record<string, JsonSchema> = {};
  for (const name of names) {
    if (!name.endsWith(SCHEMA_SUFFIX)) continue;
    const text = read(name);
    if (text === undefined) throw new Error(`${INGEST_DIR}/${name} not found`);
    try {
      schemas[name.slice(0, -SCHEMA_SUFFIX.length)] = JSON.parse(text) as JsonSchema;
    } catch (error) {
      throw new Error(`${INGEST_DIR}/${name} is not valid JSON: ${(error as Error).message}`);
    }
  }
  return schemas;
}

/** A validator of one inbound contract's payloads: the problems, or an empty list. */
export function createIngestValidator(schema: JsonSchema): (payload: unknown) => string[] {
  const validate = newAjv().compile(schema);
  return (payload) =>
    validate(payload)
      ? []
      : (validate.errors ?? []).map(
          (e) => `${schema.title ?? 'payload'}${e.instancePath} ${e.message ?? 'is invalid'}`,
        );
}

/**
 * The inbound contracts' consistency (file names, titles, schemas compile, examples match) and,
 * against a baseline, that no published version changed.
 */
export function checkIngestContracts(
  schemas: Record<string, JsonSchema>,
  base?: Record<string, JsonSchema>,
): EventFinding[] {
  const findings: EventFinding[] = [];
  const fail = (code: string, description: string, eventType: string) =>
    findings.push({ severity: 'FAIL', code, description, eventType });
  const ajv = newAjv();
  for (const [name, schema] of Object.entries(schemas)) {
    const file = `${INGEST_DIR}/${name}${SCHEMA_SUFFIX}`;
    if (!INGEST_FILE.test(`${name}${SCHEMA_SUFFIX}`))
      fail('INGEST_CONTRACT_NAME', `${file} must be named <name>.v<N>.schema.json`, name);
    if (schema.title !== name) fail('INGEST_CONTRACT_TITLE', `${file} must have "title": "${name}"`, name);
    let validate;
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      fail('INGEST_CONTRACT_INVALID', `${file}: ${(error as Error).message}`, name);
      continue;
    }
    if (!schema.examples?.length) fail('INGEST_EXAMPLE_MISSING', `${file} needs at least one example`, name);
    for (const example of schema.examples ?? [])
      if (!validate(example))
        fail(
          'INGEST_EXAMPLE_INVALID',
          `${file}: an example does not match the schema: ${ajv.errorsText(validate.errors)}`,
          name,
        );
  }
  for (const [name, baseSchema] of Object.entries(base ?? {})) {
    const next = schemas[name];
    if (!next) fail('INGEST_CONTRACT_REMOVED', `${name} was removed: producers may still publish it`, name);
    else if (JSON.stringify(next) !== JSON.stringify(baseSchema))
      fail(
        'INGEST_CONTRACT_CHANGED',
        `${name} changed since it was published: producers rely on it as it was; publish a new version instead`,
        name,
      );
  }
  for (const name of Object.keys(schemas))
    if (base && !base[name])
      findings.push({
        severity: 'PASS',
        code: 'INGEST_CONTRACT_ADDED',
        eventType: name,
        description: `${name}: new inbound contract`,
      });
  return findings;
}
