import { describe, expect, it } from 'vitest';
import { breakingChangeCheck, diffApiSchemas, type SchemaChange } from '../../src/check/breaking.ts';
import { graphql } from '../../src/check/graphql.ts';
import { formatText } from '../../src/check/report.ts';
import { addToType, checkProposal, findings, realSdl, removeField, status } from './fixtures.ts';

const BASE = `
type Query { customers(first: Int = 50, region: String): [C!]!, search: Hit, status: S, add(input: AddInput): Int, old: Int }
type C { id: ID!, name: String, age: Int }
type D { id: ID! }
type E { id: ID! }
union Hit = C | D
enum S { ACTIVE CLOSED }
input AddInput { name: String, note: String }
`;

async function codes(next: string): Promise<Record<string, string>> {
  const changes = await diffApiSchemas(graphql.buildSchema(BASE), graphql.buildSchema(next));
  return Object.fromEntries(changes.map((c) => [c.path, `${c.code}/${c.criticality}`]));
}

describe('diffApiSchemas: Rover change codes', () => {
  it('classifies removals, type changes, required additions and dangerous additions', async () => {
    const next = `
type Query { customers(first: Int = 20, region: Int, country: String!): [C!]!, search: Hit, status: S, add(input: AddInput): Int, fresh: Int }
type C { id: ID!, name: Int, age: Int, extra: String }
type D { id: ID! }
type E { id: ID! }
union Hit = C | E
enum S { ACTIVE SUSPENDED }
input AddInput { name: String, required: Int!, optional: Int }
`;
    expect(await codes(next)).toMatchObject({
      'Query.old': 'FIELD_REMOVED/BREAKING',
      'Query.fresh': 'FIELD_ADDED/NON_BREAKING',
      'Query.customers.first': 'ARG_DEFAULT_VALUE_CHANGE/DANGEROUS',
      'Query.customers.region': 'ARG_CHANGED_TYPE/BREAKING',
      'Query.customers.country': 'REQUIRED_ARG_ADDED/BREAKING',
      'C.name': 'FIELD_CHANGED_TYPE/BREAKING',
      'C.extra': 'FIELD_ADDED/NON_BREAKING',
      'S.CLOSED': 'VALUE_REMOVED_FROM_ENUM/BREAKING',
      'S.SUSPENDED': 'VALUE_ADDED_TO_ENUM/DANGEROUS',
      'AddInput.note': 'FIELD_REMOVED_FROM_INPUT_OBJECT/BREAKING',
      'AddInput.required': 'NON_NULL_INPUT_FIELD_ADDED/BREAKING',
      'AddInput.optional': 'NULLABLE_FIELD_ADDED_TO_INPUT_OBJECT/NON_BREAKING',
    });
    const changes = await diffApiSchemas(graphql.buildSchema(BASE), graphql.buildSchema(next));
    expect(
      changes
        .filter((c) => c.path === 'Hit')
        .map((c) => c.code)
        .sort(),
    ).toEqual(['TYPE_ADDED_TO_UNION', 'TYPE_REMOVED_FROM_UNION']);
  });

  it('reports removed types and optional arguments, and one row per deprecation', async () => {
    const next = BASE.replace('type E { id: ID! }\n', '')
      .replace('region: String)', 'region: String, country: String)')
      .replace('old: Int }', 'old: Int @deprecated(reason: "Use customers.") }');
    const changes = await diffApiSchemas(graphql.buildSchema(BASE), graphql.buildSchema(next));
    expect(changes.map((c) => `${c.path} ${c.code}`)).toEqual(
      expect.arrayContaining([
        'E TYPE_REMOVED',
        'Query.customers.country OPTIONAL_ARG_ADDED',
        'Query.old FIELD_DEPRECATED',
      ]),
    );
    expect(changes.filter((c) => c.path.startsWith('Query.old'))).toHaveLength(1);
  });
});

describe('breakingChangeCheck', () => {
  const change = (
    code: string,
    criticality: SchemaChange['criticality'],
    path = 'Invoice.issuedOn',
  ): SchemaChange => ({
    code,
    criticality,
    path,
    message: `${path} changed`,
    inspectorType: code,
  });

  it('fails a breaking change that a registered operation uses and names the operation', () => {
    const result = breakingChangeCheck([change('FIELD_REMOVED', 'BREAKING')], () => ['CustomerToCash'], 10);
    expect(result.status).toBe('FAILED');
    expect(result.findings[0]).toMatchObject({
      severity: 'FAIL',
      code: 'FIELD_REMOVED',
      operations: ['CustomerToCash'],
    });
    expect(result.findings[0]!.description).toContain('breaks CustomerToCash');
  });

  it('passes a breaking change that nothing registered uses, with a warning', () => {
    const result = breakingChangeCheck([change('FIELD_REMOVED', 'BREAKING')], () => [], 10);
    expect(result.status).toBe('PASSED');
    expect(result.findings[0]).toMatchObject({ severity: 'WARN' });
    expect(result.findings[0]!.description).toMatch(/no registered operation uses it/);
  });

  it('warns on dangerous changes and lists safe ones as PASS', () => {
    const result = breakingChangeCheck(
      [change('VALUE_ADDED_TO_ENUM', 'DANGEROUS', 'S.NEW'), change('FIELD_ADDED', 'NON_BREAKING', 'C.extra')],
      (c) => (c.path === 'S.NEW' ? ['Customers'] : []),
      10,
    );
    expect(result.status).toBe('PASSED');
    expect(result.findings.map((f) => f.severity)).toEqual(['WARN', 'PASS']);
    expect(result.findings[0]!.description).toContain('dangerous: check Customers');
  });
});

describe('schema check of proposed subgraph schemas (copies of the real ones)', () => {
  it("fails when issuedOn is deleted from subscription's Invoice, and names CustomerToCash", async () => {
    const report = await checkProposal(
      'subscription',
      removeField(realSdl('subscription'), 'Invoice', 'issuedOn'),
    );
    expect(report.ok).toBe(false);
    expect(status(report)).toMatchObject({
      Build: 'PASSED',
      'Breaking Change': 'FAILED',
      Operation: 'FAILED',
    });
    const removed = findings(report, 'FAIL').find((f) => f.code === 'FIELD_REMOVED');
    expect(removed).toMatchObject({ coordinate: 'Invoice.issuedOn', operations: ['CustomerToCash'] });
    expect(formatText(report)).toMatch(/FAIL\s+\| FIELD_REMOVED\s+\| .*issuedOn.*CustomerToCash/);
  });

  it('passes a new optional, described field on a type the subgraph owns', async () => {
    const sdl = addToType(
      realSdl('subscription'),
      'Invoice',
      '  """\n  The day the invoice was paid in full; null while it is open.\n  """\n  paidOn: Date',
    );
    const report = await checkProposal('subscription', sdl);
    expect(findings(report, 'FAIL')).toEqual([]);
    expect(report.ok).toBe(true);
    expect(findings(report)).toContainEqual(
      expect.objectContaining({ code: 'FIELD_ADDED', coordinate: 'Invoice.paidOn', severity: 'PASS' }),
    );
  });

  it('passes with warnings when a field no operation uses is removed without deprecation', async () => {
    const report = await checkProposal(
      'subscription',
      removeField(realSdl('subscription'), 'Plan', 'maxSeats'),
    );
    expect(report.ok).toBe(true);
    const warnings = findings(report, 'WARN').map((f) => `${f.task}:${f.code}:${f.coordinate}`);
    expect(warnings).toContain('Breaking Change:FIELD_REMOVED:Plan.maxSeats');
    expect(warnings).toContain('Linter:REMOVED_WITHOUT_DEPRECATION:Plan.maxSeats');
  });

  it('fails a new required argument on a field that an operation selects', async () => {
    const sdl = realSdl('customer').replace(
      /customers\(\n/,
      'customers(\n    """\n    Required now.\n    """\n    region: String!\n',
    );
    expect(sdl).not.toBe(realSdl('customer'));
    const report = await checkProposal('customer', sdl);
    expect(report.ok).toBe(false);
    expect(findings(report, 'FAIL')).toContainEqual(
      expect.objectContaining({
        code: 'REQUIRED_ARG_ADDED',
        coordinate: 'Query.customers.region',
        operations: ['Customers'],
      }),
    );
  });

  it('fails a removed enum value that an operation can receive', async () => {
    const sdl = realSdl('customer').replace(/\n\s*"""\s*The relationship has ended\.\s*"""\n\s*CLOSED/, '');
    expect(sdl).not.toBe(realSdl('customer'));
    const report = await checkProposal('customer', sdl);
    const removed = findings(report, 'FAIL').find((f) => f.code === 'VALUE_REMOVED_FROM_ENUM');
    expect(removed?.operations).toEqual(
      expect.arrayContaining(['CustomerToCash', 'Customers', 'UpdateCustomer']),
    );
  });
});
