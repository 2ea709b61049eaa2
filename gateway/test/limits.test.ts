import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type * as GraphQLModule from 'graphql';
import { describe, expect, it } from 'vitest';
import { accessPolicyFromSdl, ROLE_SCOPES, type Principal } from '@c2c/platform/auth';
import { ARMOR_LIMITS, MAX_OPERATION_COST, tooExpensive } from '../src/limits.ts';
import { pageLimitsFromSdl } from '../src/page-limits.ts';
import { analyzeOperation, invalidVariables } from '../src/policy.ts';

// The limits must stop attacks without stopping our clients: every registered operation passes
// graphql-armor's rules and the gateway's own analysis with room to spare, for the role it is for.
const graphql = createRequire(import.meta.url)('graphql') as typeof GraphQLModule;
const ROOT = join(import.meta.dirname, '..', '..');
const sdl = readFileSync(join(ROOT, 'schema', 'supergraph.graphql'), 'utf8');
// The client API schema `npm run compose` derives from the supergraph (kept fresh by schema:check).
const api = graphql.buildSchema(readFileSync(join(ROOT, 'schema', 'api.graphql'), 'utf8'));
const policy = accessPolicyFromSdl(sdl);
const pageLimits = pageLimitsFromSdl(sdl);
const dir = join(ROOT, 'schema', 'operations');
const operations = readdirSync(dir).filter((f) => f.endsWith('.graphql'));

/** The role each client's operations are sent with (the prefix of the operation file names). */
const ROLE_OF: Record<string, keyof typeof ROLE_SCOPES> = {
  portal: 'portal',
  support: 'support',
  finance: 'finance',
  billing: 'finance',
  ops: 'finance',
  admin: 'admin',
  sales: 'sales',
  usage: 'telemetry',
};

describe('limits against the registered operations', () => {
  const armor = new ApolloArmor({
    maxDepth: { n: ARMOR_LIMITS.maxDepth, flattenFragments: true },
    maxAliases: { n: ARMOR_LIMITS.maxAliases },
    maxDirectives: { n: ARMOR_LIMITS.maxDirectives },
    maxTokens: { n: ARMOR_LIMITS.maxTokens },
    costLimit: { maxCost: ARMOR_LIMITS.maxCost },
  }).protect();

  it.each(operations)('%s passes armor, authorization for its role, and the cost ceiling', (file) => {
    const document = graphql.parse(readFileSync(join(dir, file), 'utf8'));
    const errors = graphql.validate(api, document, [...graphql.specifiedRules, ...armor.validationRules]);
    expect(errors.map((e) => e.message)).toEqual([]);
    const operation = document.definitions.find((d) => d.kind === 'OperationDefinition');
    if (operation?.kind !== 'OperationDefinition') throw new Error(`${file} has no operation`);
    const role = ROLE_OF[file.split('.')[0] as string] ?? 'admin';
    // Variables at their defaults; the largest page the clients ask for is 500 (reconciliation).
    const analysis = analyzeOperation(
      api,
      policy,
      document,
      operation,
      {},
      {
        sub: 't',
        role,
        scopes: [...ROLE_SCOPES[role]],
      },
      pageLimits,
    );
    expect(analysis.forbidden.map((f) => f.message)).toEqual([]);
    expect(analysis.invalid).toEqual([]);
    expect(analysis.cost).toBeLessThan(MAX_OPERATION_COST / 2);
  });

  it('refuses the portal role the support and admin writes, before anything runs', () => {
    for (const file of ['support.AmendSubscription.graphql', 'admin.CreateCustomer.graphql']) {
      const document = graphql.parse(readFileSync(join(dir, file), 'utf8'));
      const operation = document.definitions[0] as GraphQLModule.OperationDefinitionNode;
      const analysis = analyzeOperation(
        api,
        policy,
        document,
        operation,
        {},
        {
          sub: 'p',
          role: 'portal',
          scopes: [...ROLE_SCOPES.portal],
        },
        pageLimits,
      );
      expect(analysis.forbidden[0]?.code).toBe('FORBIDDEN');
      expect(analysis.forbidden[0]?.path.length).toBe(1);
    }
  });
});

describe('input list limits', () => {
  const telemetry: Principal = { sub: 't', role: 'telemetry', scopes: [...ROLE_SCOPES.telemetry] };
  const events = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      id: `e${i}`,
      subscriptionId: 's',
      metric: 'm',
      quantity: '1',
      occurredAt: '2026-01-01T00:00:00Z',
    }));
  const analyze = (source: string, variables: Record<string, unknown>, principal = telemetry) => {
    const document = graphql.parse(source);
    const operation = document.definitions[0] as GraphQLModule.OperationDefinitionNode;
    return analyzeOperation(api, policy, document, operation, variables, principal, pageLimits);
  };
  const recordUsage = readFileSync(join(dir, 'usage.RecordUsage.graphql'), 'utf8');

  it('lets recordUsage carry 1,000 events and refuses 1,001 (docs/usage.md)', () => {
    expect(analyze(recordUsage, { input: { events: events(1000) } }).invalid).toEqual([]);
    expect(analyze(recordUsage, { input: { events: events(1001) } }).invalid[0]?.message).toBe(
      'a list in the variables has 1001 items; at most 1000 are accepted',
    );
  });

  it('keeps 250 for every other operation, also one that adds another field to recordUsage', () => {
    const admin: Principal = { sub: 'a', role: 'admin', scopes: [...ROLE_SCOPES.admin, 'c2c:usage'] };
    const mixed = `mutation ($input: RecordUsageInput!) { recordUsage(input: $input) { accepted }
      renewSubscriptions(asOf: "2026-01-01", idempotencyKey: "k") { renewedCount } }`;
    expect(analyze(mixed, { input: { events: events(251) } }, admin).invalid[0]?.message).toMatch(
      /at most 250 are accepted/,
    );
  });
});

describe('messages of the limits (issue 15: the first hour)', () => {
  const page = graphql.parse('query Page($n: Int!) { customers(first: $n) { nodes { id } } }');
  const operation = page.definitions[0] as GraphQLModule.OperationDefinitionNode;

  it('reports a string for an Int! variable as GraphQL does (a type error), not as a page-size range', () => {
    const [violation, ...rest] = invalidVariables(api, operation, { n: 'abc' }, {});
    expect(rest).toEqual([]);
    expect(violation?.message).toBe(
      'Variable "$n" got invalid value "abc"; Int cannot represent non-integer value: "abc"',
    );
    expect(invalidVariables(api, operation, {}, {})[0]?.message).toMatch(
      /of required type "Int!" was not provided/,
    );
    expect(invalidVariables(api, operation, { n: 5 }, {})).toEqual([]);
  });

  it("says a query over armor's cost limit is too expensive, with its cost, the limit and a smaller first", () => {
    const armor = new ApolloArmor({ costLimit: { maxCost: ARMOR_LIMITS.maxCost } }).protect();
    const document = graphql.parse('{ customers(first: 100000) { nodes { id } } }');
    const [error] = graphql.validate(api, document, armor.validationRules);
    expect(error?.message).toMatch(/^Syntax Error: Query Cost limit of 5000 exceeded, found \d+\.$/);
    const found = /found (\d+)/.exec(error?.message ?? '')?.[1];
    const message = tooExpensive(error?.message ?? '');
    expect(message).toBe(
      `the query is too expensive: its estimated cost is ${found} and the limit is 5000. Ask for less: a smaller first (page size, e.g. first: 20), fewer nested lists, or fewer fields`,
    );
    expect(tooExpensive('something else')).toMatch(/^the query is too expensive\. Ask for less/);
  });

  it('tells a token without a role or scopes that it carries none, and a role which scope it lacks', () => {
    const document = graphql.parse('{ erpDeadLetters { id } }');
    const op = document.definitions[0] as GraphQLModule.OperationDefinitionNode;
    const none = analyzeOperation(
      api,
      policy,
      document,
      op,
      {},
      { sub: 'x', role: null, scopes: [] },
      pageLimits,
    );
    expect(none.forbidden[0]?.message).toMatch(
      /^Query\.erpDeadLetters requires c2c:finance: the bearer token carries no role and no scopes/,
    );
    const portal = analyzeOperation(
      api,
      policy,
      document,
      op,
      {},
      { sub: 'x', role: 'portal', scopes: ['c2c:read'] },
      pageLimits,
    );
    expect(portal.forbidden[0]?.message).toMatch(/requires c2c:finance, which the role portal does not have/);
  });
});

describe('page limits declared in the SDL (@listSize)', () => {
  it("reads each paged field's largest page from the supergraph", () => {
    expect(pageLimits.get('Query.customers')).toEqual({ slicingArguments: ['first'], max: 100 });
    expect(pageLimits.get('Query.billingDocuments')).toEqual({ slicingArguments: ['first'], max: 1000 });
    expect(pageLimits.get('Query.crmDeadLetters')).toEqual({ slicingArguments: ['first'], max: 100 });
  });

  it('refuses a page above the declared limit and accepts one at it', () => {
    const ask = (field: string, first: number) => {
      const document = graphql.parse(`{ ${field}(first: ${first}) { totalCount } }`);
      const operation = document.definitions[0] as GraphQLModule.OperationDefinitionNode;
      const finance = { sub: 'f', role: 'finance', scopes: [...ROLE_SCOPES.finance] };
      return analyzeOperation(api, policy, document, operation, {}, finance, pageLimits).invalid;
    };
    expect(ask('billingDocuments', 1000)).toEqual([]);
    expect(ask('billingDocuments', 1001)[0]?.message).toBe(
      'Query.billingDocuments(first:) must be between 1 and 1000, got 1001',
    );
    expect(ask('customers', 101)[0]?.message).toBe(
      'Query.customers(first:) must be between 1 and 100, got 101',
    );
  });
});
