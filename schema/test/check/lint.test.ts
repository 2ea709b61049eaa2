import { describe, expect, it } from 'vitest';
import { diffApiSchemas } from '../../src/check/breaking.ts';
import { graphql } from '../../src/check/graphql.ts';
import { lintCheck } from '../../src/check/lint.ts';
import { FED, rules, subgraphs } from './fixtures.ts';

const RULES = rules(`
entities: { Account: { owner: crm } }
lint:
  boundedLists:
    Account.children: direct children of one account, a handful in practice
`);

/** A clean subgraph in house style; tests break one rule at a time. */
const CLEAN = `${FED}extend schema @link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])
"""A page of information."""
type PageInfo @shareable {
  """Whether more follows."""
  hasNextPage: Boolean!
}
"""An error."""
type UserError @shareable {
  """Code."""
  code: String!
}
"""Account status."""
enum AccountStatus {
  """Trading."""
  ACTIVE
  """Closed."""
  CLOSED
}
"""An account."""
type Account @key(fields: "id") {
  """Id."""
  id: ID!
  """Name."""
  name: String!
  """Status."""
  status: AccountStatus!
  """Child accounts."""
  children: [Account!]!
  """Address lines (values, not records)."""
  lines: [String!]!
}
"""A page of accounts."""
type AccountConnection {
  """The accounts of this page."""
  nodes: [Account!]!
  """Paging."""
  pageInfo: PageInfo!
}
"""Input of renameAccount."""
input RenameAccountInput {
  """The account."""
  id: ID!
  """The new name."""
  name: String!
}
"""Result of renameAccount."""
type RenameAccountPayload {
  """The account."""
  account: Account
  """Expected failures."""
  userErrors: [UserError!]!
}
"""Reads."""
type Query {
  """Accounts."""
  accounts(
    """Page size."""
    first: Int
  ): AccountConnection!
    @requiresScopes(scopes: [["read"]])
    @listSize(slicingArguments: ["first"], sizedFields: ["nodes"], assumedSize: 100)
}
"""Writes."""
type Mutation {
  """Renames an account."""
  renameAccount(
    """What to change."""
    input: RenameAccountInput!
  ): RenameAccountPayload! @requiresScopes(scopes: [["write"]])
}
`;

function lint(sdl: string, r = RULES): string[] {
  return lintCheck(subgraphs({ crm: sdl }), r, 'rules.yaml').findings.map(
    (f) => `${f.severity} ${f.code} ${f.coordinate}`,
  );
}

function swap(from: string, to: string): string {
  if (!CLEAN.includes(from)) throw new Error(`not in fixture: ${from}`);
  return CLEAN.replace(from, to);
}

describe('lintCheck', () => {
  it('passes a subgraph in house style', () => {
    expect(lint(CLEAN)).toEqual([]);
  });

  it('fails missing descriptions on types, fields, enum values, input fields and arguments', () => {
    expect(lint(swap('"""An account."""\n', ''))).toEqual(['FAIL DESCRIPTION_MISSING Account']);
    expect(lint(swap('"""Name."""\n', ''))).toEqual(['FAIL DESCRIPTION_MISSING Account.name']);
    expect(lint(swap('"""Trading."""\n', ''))).toEqual(['FAIL DESCRIPTION_MISSING AccountStatus.ACTIVE']);
    expect(lint(swap('"""The new name."""\n', ''))).toEqual([
      'FAIL DESCRIPTION_MISSING RenameAccountInput.name',
    ]);
    expect(lint(swap('"""Page size."""\n', ''))).toEqual(['FAIL DESCRIPTION_MISSING Query.accounts.first']);
  });

  it('only warns about argument descriptions when the rules say so', () => {
    const lenient = { ...RULES, lint: { ...RULES.lint, argumentDescriptions: 'warn' as const } };
    expect(lint(swap('"""Page size."""\n', ''), lenient)).toEqual([
      'WARN DESCRIPTION_MISSING Query.accounts.first',
    ]);
  });

  it('fails names against the naming rules', () => {
    expect(lint(CLEAN.replaceAll('PageInfo', 'page_info'))).toEqual(['FAIL NAMING_CONVENTION page_info']);
    expect(lint(swap('  name: String!\n  """Status."""', '  Name: String!\n  """Status."""'))).toEqual([
      'FAIL NAMING_CONVENTION Account.Name',
    ]);
    expect(lint(swap('  CLOSED', '  closed'))).toEqual(['FAIL NAMING_CONVENTION AccountStatus.closed']);
    expect(lint(CLEAN.replaceAll('RenameAccountInput', 'RenameAccountArgs'))).toEqual([
      'FAIL NAMING_CONVENTION RenameAccountArgs',
    ]);
  });

  it('fails a paged field that declares no page limit', () => {
    expect(
      lint(
        swap('\n    @listSize(slicingArguments: ["first"], sizedFields: ["nodes"], assumedSize: 100)', ''),
      ),
    ).toEqual(['FAIL PAGE_LIMIT_MISSING Query.accounts']);
  });

  it('fails mutations that do not return an XPayload with userErrors', () => {
    expect(lint(swap('): RenameAccountPayload!', '): Account'))).toEqual([
      'FAIL MUTATION_PAYLOAD Mutation.renameAccount',
    ]);
    expect(lint(swap('  """Expected failures."""\n  userErrors: [UserError!]!\n', ''))).toEqual([
      'FAIL MUTATION_PAYLOAD Mutation.renameAccount',
    ]);
  });

  it('fails Float anywhere, and says Money for money-like names', () => {
    const result = lintCheck(
      subgraphs({
        crm: swap('  lines: [String!]!', '  lines: [String!]!\n  """Balance."""\n  balance: Float'),
      }),
      RULES,
      'r',
    );
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({
      severity: 'FAIL',
      code: 'FLOAT_FORBIDDEN',
      coordinate: 'Account.balance',
    });
    expect(result.findings[0]!.description).toMatch(/use Money/);
    expect(lint(swap('    first: Int', '    first: Float'))).toEqual([
      'FAIL FLOAT_FORBIDDEN Query.accounts.first',
    ]);
  });

  it('fails unbounded lists of records unless the rules say why they are bounded', () => {
    expect(
      lint(swap('  lines: [String!]!', '  lines: [String!]!\n  """Peers."""\n  peers: [Account!]')),
    ).toEqual(['FAIL UNBOUNDED_LIST Account.peers']);
    // Allowed lists (Account.children), connection nodes and lists of values pass; a stale allowance warns.
    const stale = rules(
      `entities: {}\nlint: { boundedLists: { Account.gone: "a list that no longer exists anywhere" } }`,
    );
    expect(
      lint(CLEAN, {
        ...stale,
        lint: { ...stale.lint, boundedLists: { ...stale.lint.boundedLists, ...RULES.lint.boundedLists } },
      }),
    ).toEqual(['WARN BOUNDED_LIST_UNUSED Account.gone']);
  });

  it('fails root fields that do not say who may call them', () => {
    expect(lint(CLEAN.replace(' @requiresScopes(scopes: [["write"]])', ''))).toEqual([
      'FAIL AUTHORIZATION_MISSING Mutation.renameAccount',
    ]);
  });

  it('fails @deprecated without a reason', () => {
    expect(lint(swap('  name: String!\n', '  name: String! @deprecated\n'))).toEqual([
      'FAIL DEPRECATED_WITHOUT_REASON Account.name',
    ]);
    expect(lint(swap('  name: String!\n', '  name: String! @deprecated(reason: "Use status.")\n'))).toEqual(
      [],
    );
  });

  it('turns violations already in the baseline into warnings, and reports removals without deprecation', async () => {
    const baselineSdl =
      'type Query { "Accounts." accounts(first: Int): Int, "Old." old: Int, "Older." older: Int @deprecated(reason: "Use accounts.") }';
    const baseline = graphql.buildSchema(baselineSdl);
    const proposed = graphql.buildSchema('type Query { "Accounts." accounts(first: Int): Int }');
    const changes = await diffApiSchemas(baseline, proposed);
    const sdl = swap('"""Page size."""\n', '');
    const result = lintCheck(subgraphs({ crm: sdl }), RULES, 'r', { changes, baseline });
    expect(result.status).toBe('PASSED');
    expect(result.findings.map((f) => `${f.severity} ${f.code} ${f.coordinate}`)).toEqual([
      'WARN DESCRIPTION_MISSING Query.accounts.first',
      'WARN REMOVED_WITHOUT_DEPRECATION Query.old',
    ]);
  });
});
