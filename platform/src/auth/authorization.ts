import { Kind, parse, type DocumentNode, type ConstDirectiveNode, type ConstValueNode } from 'graphql';
import { DomainError } from '../core/errors.ts';

/**
 * Authorization declared in the SDL with Federation's `@authenticated` and `@requiresScopes`, read
 * the same way by the gateway (from the composed supergraph, before planning) and by every subgraph
 * (from its own SDL, in field resolvers and `__resolveReference`).
 */

/** Who is calling, as the gateway verified it and signed it to the subgraphs. */
export interface Principal {
  sub: string;
  role: string | null;
  scopes: string[];
}

/** The caller before authentication (subgraph events, tests without identity). */
export const NOBODY: Principal = { sub: 'anonymous', role: null, scopes: [] };

/** What a type or field demands: authentication, and any one of these scope sets (all of one set). */
export interface Requirement {
  authenticated: boolean;
  /** OR of ANDs, as in `@requiresScopes(scopes: [["a", "b"], ["c"]])`; empty when no scopes are asked. */
  anyOf: string[][];
}

export interface AccessPolicy {
  /** Object/interface type name → requirement declared on the type. */
  types: Map<string, Requirement>;
  /** `Type.field` → requirement declared on the field. */
  fields: Map<string, Requirement>;
  /** Object type name → its field names (from the SDL, including `extend type`). */
  typeFields: Map<string, string[]>;
  /** Types with a `@key`: the ones `_entities` can resolve. */
  entities: Set<string>;
}

function constValue(node: ConstValueNode): unknown {
  if (node.kind === Kind.LIST) return node.values.map(constValue);
  if (node.kind === Kind.STRING || node.kind === Kind.ENUM) return node.value;
  return null;
}

function requirementOf(directives: readonly ConstDirectiveNode[] | undefined): Requirement | null {
  let declared = false;
  const anyOf: string[][] = [];
  for (const directive of directives ?? []) {
    const name = directive.name.value;
    if (name === 'authenticated') declared = true;
    else if (name === 'requiresScopes') {
      declared = true;
      const argument = directive.arguments?.find((a) => a.name.value === 'scopes');
      const sets = argument ? constValue(argument.value) : [];
      for (const set of Array.isArray(sets) ? sets : []) {
        if (Array.isArray(set)) anyOf.push(set.filter((s): s is string => typeof s === 'string'));
      }
    }
  }
  return declared ? { authenticated: true, anyOf } : null;
}

function merge(into: Map<string, Requirement>, key: string, requirement: Requirement | null): void {
  if (!requirement) return;
  const existing = into.get(key);
  // Several subgraphs may declare the same type; every declaration must hold.
  if (!existing) into.set(key, requirement);
  else
    into.set(key, {
      authenticated: existing.authenticated || requirement.authenticated,
      anyOf:
        existing.anyOf.length && requirement.anyOf.length
          ? conjoin(existing.anyOf, requirement.anyOf)
          : [...existing.anyOf, ...requirement.anyOf],
    });
}

/** (A or B) and (C or D) = AC or AD or BC or BD. */
function conjoin(left: string[][], right: string[][]): string[][] {
  return left.flatMap((l) => right.map((r) => [...new Set([...l, ...r])]));
}

/** Reads the access policy from a subgraph SDL or a composed supergraph. */
export function accessPolicyFromSdl(sdl: string | DocumentNode): AccessPolicy {
  const document = typeof sdl === 'string' ? parse(sdl) : sdl;
  const policy: AccessPolicy = {
    types: new Map(),
    fields: new Map(),
    typeFields: new Map(),
    entities: new Set(),
  };
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_EXTENSION
    )
      continue;
    const typeName = definition.name.value;
    merge(policy.types, typeName, requirementOf(definition.directives));
    if (definition.directives?.some((d) => d.name.value === 'key')) policy.entities.add(typeName);
    const names = policy.typeFields.get(typeName) ?? [];
    for (const field of definition.fields ?? []) {
      names.push(field.name.value);
      merge(policy.fields, `${typeName}.${field.name.value}`, requirementOf(field.directives));
    }
    policy.typeFields.set(typeName, names);
  }
  return policy;
}

const scopeSets = new WeakMap<Principal, Set<string>>();
/** The principal's scopes as a set, built once per principal object (once per request). */
function scopeSet(principal: Principal): Set<string> {
  let set = scopeSets.get(principal);
  if (!set) {
    set = new Set(principal.scopes);
    scopeSets.set(principal, set);
  }
  return set;
}

/** True when the principal meets the requirement (a null principal is unauthenticated). */
export function allows(principal: Principal | null, requirement: Requirement | undefined): boolean {
  if (!requirement) return true;
  if (!principal || principal === NOBODY) return false;
  if (requirement.anyOf.length === 0) return true;
  const held = scopeSet(principal);
  return requirement.anyOf.some((set) => set.every((scope) => held.has(scope)));
}

/** A readable form of a requirement, for error messages and docs. */
export function describeRequirement(requirement: Requirement): string {
  if (requirement.anyOf.length === 0) return 'authentication';
  return requirement.anyOf.map((set) => set.join(' and ')).join(' or ');
}

type Resolver = (parent: unknown, args: unknown, context: unknown, info: unknown) => unknown;
type ResolverMap = Record<string, Record<string, unknown>>;

const defaultField: Resolver = (parent, _args, _context, info) => {
  const name = (info as { fieldName: string }).fieldName;
  const value = (parent as Record<string, unknown> | null)?.[name];
  return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).call(parent) : value;
};

function forbidden(what: string, requirement: Requirement): DomainError {
  return new DomainError('FORBIDDEN', `${what} requires ${describeRequirement(requirement)}`);
}

function principalOf(context: unknown): Principal | null {
  const principal = (context as { principal?: Principal } | null)?.principal;
  return principal ?? null;
}

/**
 * Wraps a subgraph's resolver map so every field and every `__resolveReference` checks the
 * policy declared in its SDL against `context.principal` before running: the gateway's check,
 * again, where the data lives.
 */
export function protectResolvers<M>(resolvers: M, typeDefs: string | DocumentNode): M {
  const policy = accessPolicyFromSdl(typeDefs);
  const source = resolvers as unknown as ResolverMap;
  const result: ResolverMap = { ...source };
  for (const [typeName, fieldNames] of policy.typeFields) {
    const typeRequirement = policy.types.get(typeName);
    const original = source[typeName] ?? {};
    const wrapped: Record<string, unknown> = { ...original };
    let changed = false;
    for (const fieldName of fieldNames) {
      const requirements = [typeRequirement, policy.fields.get(`${typeName}.${fieldName}`)].filter(
        (r): r is Requirement => r !== undefined,
      );
      if (requirements.length === 0) continue;
      const resolve = (original[fieldName] as Resolver | undefined) ?? defaultField;
      wrapped[fieldName] = (parent: unknown, args: unknown, context: unknown, info: unknown) => {
        const principal = principalOf(context);
        for (const requirement of requirements) {
          if (!allows(principal, requirement)) throw forbidden(`${typeName}.${fieldName}`, requirement);
        }
        return resolve(parent, args, context, info);
      };
      changed = true;
    }
    if (typeRequirement && policy.entities.has(typeName)) {
      const resolveReference =
        (original.__resolveReference as Resolver | undefined) ?? ((ref: unknown) => ref);
      wrapped.__resolveReference = (reference: unknown, context: unknown, info: unknown) => {
        if (!allows(principalOf(context), typeRequirement)) throw forbidden(typeName, typeRequirement);
        return (resolveReference as (r: unknown, c: unknown, i: unknown) => unknown)(
          reference,
          context,
          info,
        );
      };
      changed = true;
    }
    if (changed) result[typeName] = wrapped;
  }
  return result as unknown as M;
}
