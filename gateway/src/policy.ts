import { createRequire } from 'node:module';
import type * as GraphQLModule from 'graphql';
import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLNamedType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
  ValueNode,
} from 'graphql';
import { Kind } from 'graphql';
import type { PageLimits } from './page-limits.ts';
import {
  allows,
  describeRequirement,
  type AccessPolicy,
  type Principal,
  type Requirement,
} from '@c2c/platform/auth';

// The API schema is built by @apollo/gateway with graphql's CommonJS build; type predicates must come
// from that same instance (an ESM import would fail its instanceof checks).
const graphql = createRequire(import.meta.url)('graphql') as typeof GraphQLModule;

/** The page limit of a paged field that declares none in the SDL (the contract's 1–100). */
export const DEFAULT_MAX_PAGE_SIZE = 100;
/** Largest list a client may send as an argument or variable (Shopify's convention). */
export const MAX_INPUT_LIST = 250;
/**
 * Fields that take larger lists by design, with their limit: usage ingestion takes 1–1,000 events a
 * call (docs/usage.md). An operation whose root fields are all listed here gets the largest of their limits.
 */
export const INPUT_LIST_LIMITS: Readonly<Record<string, number>> = { 'Mutation.recordUsage': 1000 };

/** The input list limit of an operation: larger only when every root field allows more. */
function inputListLimit(operation: OperationDefinitionNode): number {
  const parent =
    operation.operation === 'mutation' ? 'Mutation' : operation.operation === 'query' ? 'Query' : '';
  let limit = 0;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return MAX_INPUT_LIST;
    const allowed = INPUT_LIST_LIMITS[`${parent}.${selection.name.value}`];
    if (selection.name.value === '__typename') continue;
    if (allowed === undefined) return MAX_INPUT_LIST;
    limit = Math.max(limit, allowed);
  }
  return limit === 0 ? MAX_INPUT_LIST : limit;
}

export interface Violation {
  code: 'FORBIDDEN' | 'BAD_USER_INPUT';
  message: string;
  path: string[];
}

export interface OperationAnalysis {
  /** Fields the principal may not read or call, with their response paths. */
  forbidden: (Violation & { coordinate: string; requires: string })[];
  /** Page sizes out of range and oversized lists. */
  invalid: Violation[];
  /**
   * Estimated cost: every object selected costs 1 (scalar fields are free), multiplied by the page
   * sizes of the lists above it (a `first: 50` connection multiplies what is inside it by 50).
   */
  cost: number;
}

type Variables = Record<string, unknown>;

function valueOf(node: ValueNode, variables: Variables): unknown {
  if (node.kind === Kind.VARIABLE) return variables[node.name.value];
  if (node.kind === Kind.INT || node.kind === Kind.FLOAT) return Number(node.value);
  if (node.kind === Kind.STRING || node.kind === Kind.ENUM || node.kind === Kind.BOOLEAN) return node.value;
  if (node.kind === Kind.LIST) return node.values.map((v) => valueOf(v, variables));
  if (node.kind === Kind.OBJECT)
    return Object.fromEntries(node.fields.map((f) => [f.name.value, valueOf(f.value, variables)]));
  return null;
}

/** @skip / @include, evaluated with the request's variables. */
function included(node: FieldNode | { directives?: FieldNode['directives'] }, variables: Variables): boolean {
  for (const directive of node.directives ?? []) {
    const condition = directive.arguments?.find((a) => a.name.value === 'if');
    if (!condition) continue;
    const value = valueOf(condition.value, variables);
    if (directive.name.value === 'skip' && value === true) return false;
    if (directive.name.value === 'include' && value === false) return false;
  }
  return true;
}

/** Longest array anywhere in a value (variables can hide lists inside input objects). */
function longestList(value: unknown, depth = 0): number {
  if (depth > 32 || value === null || typeof value !== 'object') return 0;
  const items = Array.isArray(value) ? value : Object.values(value);
  let longest = Array.isArray(value) ? value.length : 0;
  for (const item of items) longest = Math.max(longest, longestList(item, depth + 1));
  return longest;
}

/** Why the principal lacks a scope: its role, or a token that carries no role or scope at all. */
function lacking(principal: Principal | null): string {
  if (!principal) return '';
  if (principal.role)
    return `, which the role ${principal.role} does not have: use a token of a role that has it`;
  if (principal.scopes.length === 0)
    return ': the bearer token carries no role and no scopes (no role or scope claim); ask your issuer for a token with a role';
  return ", which the bearer token's scopes do not include";
}

/**
 * Walks an operation over the API schema before anything is planned or fetched: which fields the
 * principal may not see (from the supergraph's `@authenticated`/`@requiresScopes`), page sizes and
 * list sizes out of range, and a cost estimate for rate limiting.
 */
export function analyzeOperation(
  schema: GraphQLSchema,
  policy: AccessPolicy,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Variables,
  principal: Principal | null,
  pageLimits: PageLimits,
): OperationAnalysis {
  const analysis: OperationAnalysis = { forbidden: [], invalid: [], cost: 0 };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === 'FragmentDefinition') fragments.set(definition.name.value, definition);
  }
  const maxInputList = inputListLimit(operation);
  const longestVariableList = longestList(variables);
  if (longestVariableList > maxInputList) {
    analysis.invalid.push({
      code: 'BAD_USER_INPUT',
      message: `a list in the variables has ${longestVariableList} items; at most ${maxInputList} are accepted`,
      path: [],
    });
  }
  const check = (requirement: Requirement | undefined, coordinate: string, path: string[]) => {
    if (!requirement || allows(principal, requirement)) return;
    const requires = describeRequirement(requirement);
    analysis.forbidden.push({
      code: 'FORBIDDEN',
      coordinate,
      requires,
      path,
      message: `${coordinate} requires ${requires}${lacking(principal)}`,
    });
  };

  const walk = (
    parent: GraphQLNamedType,
    selectionSet: SelectionSetNode,
    path: string[],
    multiplier: number,
    visiting: Set<string>,
  ): void => {
    for (const selection of selectionSet.selections) {
      if (!included(selection, variables)) continue;
      if (selection.kind === 'InlineFragment') {
        const narrowed = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : parent;
        if (narrowed) walk(narrowed, selection.selectionSet, path, multiplier, visiting);
        continue;
      }
      if (selection.kind === 'FragmentSpread') {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || visiting.has(name)) continue;
        const narrowed = schema.getType(fragment.typeCondition.name.value) ?? parent;
        walk(narrowed, fragment.selectionSet, path, multiplier, new Set([...visiting, name]));
        continue;
      }
      const fieldName = selection.name.value;
      if (fieldName.startsWith('__')) continue;
      if (!graphql.isObjectType(parent) && !graphql.isInterfaceType(parent)) continue;
      const field = parent.getFields()[fieldName];
      if (!field) continue;
      const responsePath = [...path, selection.alias?.value ?? fieldName];
      const coordinate = `${parent.name}.${fieldName}`;
      const returned = graphql.getNamedType(field.type);
      check(policy.types.get(parent.name), parent.name, responsePath);
      check(policy.fields.get(coordinate), coordinate, responsePath);
      check(policy.types.get(returned.name), returned.name, responsePath);

      let pageSize = 1;
      for (const argument of selection.arguments ?? []) {
        const value = valueOf(argument.value, variables);
        const name = argument.name.value;
        const limit = pageLimits.get(coordinate);
        const slicing = limit ? limit.slicingArguments.includes(name) : name === 'first' || name === 'last';
        if (slicing && value !== null && value !== undefined) {
          const max = limit?.max ?? DEFAULT_MAX_PAGE_SIZE;
          if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
            analysis.invalid.push({
              code: 'BAD_USER_INPUT',
              message: `${coordinate}(${name}:) must be between 1 and ${max}, got ${JSON.stringify(value)}`,
              path: responsePath,
            });
          } else pageSize = Math.max(pageSize, value);
        }
        const longest = longestList(value);
        if (longest > maxInputList && argument.value.kind !== 'Variable') {
          analysis.invalid.push({
            code: 'BAD_USER_INPUT',
            message: `${coordinate}(${name}:) has a list of ${longest} items; at most ${maxInputList} are accepted`,
            path: responsePath,
          });
        }
      }
      if (pageSize === 1) {
        // A paged field called without `first` gets its default page.
        const first = field.args.find((a) => a.name === 'first');
        if (typeof first?.defaultValue === 'number') pageSize = first.defaultValue;
      }
      if (selection.selectionSet) {
        // Objects cost, scalars are free (as in Apollo's demand control): rows, not columns.
        analysis.cost += multiplier;
        const inner = graphql.isListType(graphql.getNullableType(field.type)) || pageSize > 1 ? pageSize : 1;
        walk(returned, selection.selectionSet, responsePath, multiplier * Math.max(1, inner), visiting);
      }
    }
  };

  const root =
    operation.operation === 'mutation'
      ? schema.getMutationType()
      : operation.operation === 'subscription'
        ? schema.getSubscriptionType()
        : schema.getQueryType();
  if (root) walk(root, operation.selectionSet, [], 1, new Set());
  return analysis;
}

const INPUT_LIST_LIMITS_MAX = Math.max(MAX_INPUT_LIST, ...Object.values(INPUT_LIST_LIMITS));

/** Something with a `parseValue`, as a scalar has. */
export interface ScalarParser {
  parseValue(value: unknown): unknown;
}

/**
 * Coerces the request's variables against the custom scalars the subgraphs use (the same
 * implementations), so a malformed email, currency or amount is a 400 at the gateway instead of a
 * subgraph's refusal halfway through a plan. Apollo's gateway passes custom scalars through unchecked.
 */
export function invalidVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Variables,
  scalars: Record<string, ScalarParser>,
): Violation[] {
  // What GraphQL itself says of a value of the wrong type (a string for an Int!, a missing
  // required variable), before any bound below is checked against a value that is not even a number.
  const coerced = graphql.getVariableValues(schema, operation.variableDefinitions ?? [], variables, {
    maxErrors: 1,
  });
  const typeError = 'errors' in coerced ? coerced.errors?.[0] : undefined;
  if (typeError) return [{ code: 'BAD_USER_INPUT', message: typeError.message, path: [] }];
  const violations: Violation[] = [];
  const visit = (
    type: GraphQLModule.GraphQLInputType,
    value: unknown,
    where: string,
    depth: number,
  ): void => {
    if (value === null || value === undefined || depth > 32) return;
    if (graphql.isNonNullType(type)) return visit(type.ofType, value, where, depth);
    if (graphql.isListType(type)) {
      const items = Array.isArray(value) ? value : [value];
      items
        .slice(0, INPUT_LIST_LIMITS_MAX + 1)
        .forEach((item, i) => visit(type.ofType, item, `${where}[${i}]`, depth + 1));
      return;
    }
    if (graphql.isInputObjectType(type)) {
      if (typeof value !== 'object' || Array.isArray(value)) return;
      const fields = type.getFields();
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        const field = fields[key];
        if (field) visit(field.type, inner, `${where}.${key}`, depth + 1);
      }
      return;
    }
    if (graphql.isScalarType(type)) {
      const scalar = scalars[type.name];
      if (!scalar) return;
      try {
        scalar.parseValue(value);
      } catch (error) {
        violations.push({
          code: 'BAD_USER_INPUT',
          message: `Variable "$${where}" got an invalid ${type.name}: ${(error as Error).message}`,
          path: [],
        });
      }
    }
  };
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = graphql.typeFromAST(schema, definition.type as never) as
      GraphQLModule.GraphQLInputType | undefined;
    if (type) visit(type, variables[name], name, 0);
  }
  return violations;
}
