import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownershipCheck } from '../../src/check/ownership.ts';
import { readRules } from '../../src/check/rules.ts';
import {
  FED,
  ROOT,
  addToType,
  checkProposal,
  findings,
  realSdl,
  rules,
  status,
  subgraphs,
} from './fixtures.ts';

const RULES = rules(`
systems: { crm: CRM, erp: ERP }
entities:
  Account: { owner: crm, system: CRM, contributions: { erp: [balance] } }
  Ledger: { owner: erp }
valueTypes: [Money]
mutations:
  renameAccount: Account
  postLedger: Ledger
`);

const CRM = `${FED}
type Money @shareable { amount: String! }
type Account @key(fields: "id") { id: ID! name: String! }
type Query { account(id: ID!): Account }
type Mutation { renameAccount(name: String!): Account }
`;
const ERP = (extra = '', mutation = 'postLedger: Ledger') => `${FED}
type Money @shareable { amount: String! }
type Account @key(fields: "id") { id: ID! balance: Money ${extra} }
type Ledger @key(fields: "id") { id: ID! }
type Query { ledger: Ledger }
type Mutation { ${mutation} }
`;

function codes(erp: string, crm = CRM): string[] {
  return ownershipCheck(subgraphs({ crm, erp }), RULES, 'test-rules.yaml').findings.map(
    (f) => `${f.severity} ${f.code}`,
  );
}

describe('ownershipCheck', () => {
  it('accepts key fields, the contributions the rules allow and mutations on own entities', () => {
    expect(codes(ERP())).toEqual([]);
  });

  it('fails a subgraph that declares a field of an entity it does not own', () => {
    const result = ownershipCheck(
      subgraphs({ crm: CRM, erp: ERP('name: String') }),
      RULES,
      'test-rules.yaml',
    );
    expect(result.status).toBe('FAILED');
    expect(result.findings[0]).toMatchObject({
      code: 'OWNERSHIP_FOREIGN_FIELD',
      subgraph: 'erp',
      coordinate: 'Account.name',
    });
    expect(result.findings[0]!.description).toMatch(
      /erp declares Account\.name: Account belongs to crm \(CRM\) and erp may contribute only balance \(at erp\.graphql:4:/,
    );
  });

  it('fails sharing or overriding a field only the owner may resolve', () => {
    expect(codes(ERP('name: String @shareable'))).toEqual(['FAIL OWNERSHIP_SHARED_FIELD']);
    expect(codes(ERP('name: String @override(from: "crm")'))).toEqual(['FAIL OWNERSHIP_OVERRIDE']);
    expect(codes(ERP(), CRM.replace('name: String!', 'name: String! @shareable'))).toEqual([
      'FAIL OWNERSHIP_SHARED_FIELD',
    ]);
  });

  it('fails the owner declaring a field the rules give to a contributor', () => {
    expect(codes(ERP(), CRM.replace('name: String!', 'name: String! balance: Money'))).toEqual([
      'FAIL OWNERSHIP_FOREIGN_FIELD',
    ]);
  });

  it("fails a mutation that writes another system's entity, or is not mapped", () => {
    expect(codes(ERP('', 'postLedger: Ledger renameAccount(name: String!): Account'))).toEqual([
      'FAIL OWNERSHIP_FOREIGN_MUTATION',
    ]);
    expect(codes(ERP('', 'postLedger: Ledger closeBooks: Ledger'))).toEqual([
      'FAIL OWNERSHIP_UNMAPPED_MUTATION',
    ]);
  });

  it('fails unknown entities and object types shared without being value types', () => {
    expect(codes(`${ERP()}\ntype Batch @key(fields: "id") { id: ID! }`)).toEqual([
      'FAIL OWNERSHIP_UNKNOWN_ENTITY',
    ]);
    const dup = 'type Address { city: String }';
    expect(codes(`${ERP()}\n${dup}`, `${CRM}\n${dup}`)).toEqual(['FAIL OWNERSHIP_DUPLICATE_TYPE']);
  });

  it('warns about a rule for an entity its owner no longer declares', () => {
    const withoutLedger = ERP()
      .replace('type Ledger @key(fields: "id") { id: ID! }', '')
      .replace('ledger: Ledger', 'ok: Int')
      .replace('postLedger: Ledger', 'noop: Int');
    const result = ownershipCheck(
      subgraphs({ crm: CRM, erp: withoutLedger }),
      { ...RULES, mutations: { ...RULES.mutations, noop: 'Ledger' } },
      'r',
    );
    expect(result.findings.map((f) => `${f.severity} ${f.code}`)).toContain('WARN OWNERSHIP_RULE_UNUSED');
  });

  it('rejects a malformed rules file with the path of the problem', () => {
    expect(() => rules('entities: { Account: { system: CRM } }')).toThrow(/entities\.Account\.owner/);
  });
});

describe('ownership of the real subgraphs (schema/ownership.yaml)', () => {
  it('passes as they are', () => {
    const real = subgraphs({
      customer: realSdl('customer'),
      subscription: realSdl('subscription'),
      finance: realSdl('finance'),
    });
    const result = ownershipCheck(
      real,
      readRules(join(ROOT, 'schema', 'ownership.yaml')),
      'schema/ownership.yaml',
    );
    expect(result.findings.filter((f) => f.severity === 'FAIL')).toEqual([]);
  });

  it('fails when finance adds businessUnit to Customer', async () => {
    const sdl = addToType(
      realSdl('finance'),
      'Customer',
      '  """\n  Business unit, copied from the CRM.\n  """\n  businessUnit: String',
    );
    const report = await checkProposal('finance', sdl);
    expect(report.ok).toBe(false);
    expect(status(report).Ownership).toBe('FAILED');
    const finding = findings(report, 'FAIL').find((f) => f.task === 'Ownership');
    expect(finding).toMatchObject({
      code: 'OWNERSHIP_FOREIGN_FIELD',
      subgraph: 'finance',
      coordinate: 'Customer.businessUnit',
    });
    expect(finding!.description).toContain(
      'Customer belongs to customer (CRM) and finance may contribute only receivable',
    );
  });

  it('fails when finance adds a mutation that writes customers', async () => {
    const sdl = addToType(
      realSdl('finance'),
      'Mutation',
      '  """\n  Puts a customer on credit hold.\n  """\n  updateCustomer(input: RecordPaymentInput!): RecordPaymentPayload!',
    );
    const report = await checkProposal('finance', sdl);
    expect(findings(report, 'FAIL').map((f) => f.code)).toContain('OWNERSHIP_FOREIGN_MUTATION');
  });

  it("fails when billing declares a field of the CRM's order, or a mutation that writes orders", async () => {
    const withOrder = `${realSdl('subscription')}
"""
An order, as billing would like to mark it.
"""
type Order @key(fields: "id") {
  """
  Stable identifier.
  """
  id: ID!
  """
  Billing's idea of the order's status.
  """
  status: String
}
`;
    const report = await checkProposal('subscription', withOrder);
    expect(report.ok).toBe(false);
    expect(findings(report, 'FAIL').find((f) => f.task === 'Ownership')).toMatchObject({
      code: 'OWNERSHIP_FOREIGN_FIELD',
      subgraph: 'subscription',
      coordinate: 'Order.status',
    });
    const writer = addToType(
      realSdl('subscription'),
      'Mutation',
      '  """\n  Marks an order complete.\n  """\n  winOpportunity(input: CreatePlanInput!): CreatePlanPayload! @requiresScopes(scopes: [["c2c:admin"]])',
    );
    const mutation = await checkProposal('subscription', writer);
    expect(findings(mutation, 'FAIL').map((f) => f.code)).toContain('OWNERSHIP_FOREIGN_MUTATION');
  });

  it("names each subgraph's system once, and fails an entity whose system is not its owner's", () => {
    const mismatched = rules(`
systems: { crm: CRM }
entities:
  Account: { owner: crm, system: ERP }
`);
    const result = ownershipCheck(
      subgraphs({ crm: CRM.replace(/type Money[^\n]*\n/, '') }),
      mismatched,
      'rules',
    );
    expect(result.findings.map((f) => f.code)).toContain('OWNERSHIP_SYSTEM_MISMATCH');
    const missing = ownershipCheck(
      subgraphs({ crm: CRM.replace(/type Money[^\n]*\n/, '') }),
      rules(`
entities:
  Account: { owner: crm }
`),
      'rules',
    );
    expect(missing.findings.map((f) => `${f.code}: ${f.description}`)).toContain(
      'OWNERSHIP_SYSTEM_MISSING: rules: systems has no entry for subgraph crm (CRM, billing, ERP, …)',
    );
  });
});
