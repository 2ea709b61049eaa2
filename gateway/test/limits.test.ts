import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROUTER_SUPPORTED_SUPERGRAPH_FEATURES, Supergraph } from '@apollo/federation-internals';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type * as GraphQLModule from 'graphql';
import { describe, expect, it } from 'vitest';
import { accessPolicyFromSdl, ROLE_SCOPES } from '@c2c/platform/auth';
import { ARMOR_LIMITS, MAX_OPERATION_COST } from '../src/limits.ts';
import { analyzeOperation } from '../src/policy.ts';

// The limits must stop attacks without stopping our clients: every registered operation passes
// graphql-armor's rules and the gateway's own analysis with room to spare, for the role it is for.
const graphql = createRequire(import.meta.url)('graphql') as typeof GraphQLModule;
const ROOT = join(import.meta.dirname, '..', '..');
const sdl = readFileSync(join(ROOT, 'schema', 'supergraph.graphql'), 'utf8');
const api = Supergraph.build(sdl, { supportedFeatures: ROUTER_SUPPORTED_SUPERGRAPH_FEATURES })
  .apiSchema()
  .toGraphQLJSSchema();
const policy = accessPolicyFromSdl(sdl);
const dir = join(ROOT, 'schema', 'operations');
const operations = readdirSync(dir).filter((f) => f.endsWith('.graphql'));

/** The role each client's operations are sent with (shared/contract/README.md). */
const ROLE_OF: Record<string, keyof typeof ROLE_SCOPES> = {
  portal: 'portal',
  support: 'support',
  finance: 'finance',
  billing: 'finance',
  ops: 'finance',
  admin: 'admin',
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
      );
      expect(analysis.forbidden[0]?.code).toBe('FORBIDDEN');
      expect(analysis.forbidden[0]?.path.length).toBe(1);
    }
  });
});
