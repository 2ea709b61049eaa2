import {
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  parse,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type SelectionSetNode,
} from 'graphql';
import type { CachePolicy } from './policy.ts';

/**
 * What the cache makes of one subgraph fetch the query planner built (the same text for every
 * execution of a plan, so it is analysed once): which parts may be kept, for how long, and how to
 * find the objects an answer holds, whose events evict it.
 */
export type FetchShape =
  | { kind: 'uncached' }
  /** `_entities(representations:)`: each representation is kept on its own, when its type's part may be. */
  | { kind: 'entities'; parts: Map<string, Part> }
  /** Root query fields, every one declared `@cached`: the answer is kept whole. */
  | { kind: 'root'; part: Part; fields: RootField[] };

/** A selection on one type that may be kept, for `maxAgeMs`. */
export interface Part {
  type: GraphQLObjectType;
  selection: SelectionSetNode;
  maxAgeMs: number;
  /** The fetch's named fragments (the planner may reuse them). */
  fragments: Map<string, FragmentDefinitionNode>;
}

export interface RootField {
  responseKey: string;
  /** The identified type a lookup returns (one object, not a list), tagged as a lookup only when null. */
  lookupOf: string | null;
}

/** Tags (docs/cache.md): an object `o:Type:key`, its type `t:Type`, a keyless one `a:Type`, lists `l:Type`. */
export const objectTag = (type: string, key: string) => `o:${type}:${key}`;
export const typeTag = (type: string) => `t:${type}`;
export const keylessTag = (type: string) => `a:${type}`;
export const listTag = (type: string) => `l:${type}`;
/** Every entry read from a subgraph: a mutation there removes them all (read-your-writes). */
export const subgraphTag = (subgraph: string) => `s:${subgraph}`;

const ENTITIES = '_entities';

export function analyseFetch(policy: CachePolicy, query: string): FetchShape {
  let document;
  try {
    document = parse(query);
  } catch {
    return { kind: 'uncached' };
  }
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operations[0];
  if (operations.length !== 1 || !operation || operation.operation !== 'query') return { kind: 'uncached' };
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const checker = new Checker(policy, fragments);
  const roots = operation.selectionSet.selections;
  const first = roots[0];
  if (roots.length === 1 && first?.kind === Kind.FIELD && first.name.value === ENTITIES) {
    const parts = new Map<string, Part>();
    for (const selection of first.selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD && selection.name.value === '__typename') continue;
      if (selection.kind !== Kind.INLINE_FRAGMENT || !selection.typeCondition) return { kind: 'uncached' };
      const name = selection.typeCondition.name.value;
      const type = policy.schema.getType(name);
      if (!isObjectType(type) || !policy.declared.has(name)) continue;
      const maxAge = checker.selection(selection.selectionSet, type, null);
      if (maxAge !== null && maxAge > 0)
        parts.set(name, { type, selection: selection.selectionSet, maxAgeMs: maxAge * 1000, fragments });
    }
    return parts.size ? { kind: 'entities', parts } : { kind: 'uncached' };
  }
  const queryType = policy.schema.getQueryType();
  if (!queryType) return { kind: 'uncached' };
  const maxAge = checker.selection(operation.selectionSet, queryType, null);
  if (maxAge === null || maxAge <= 0) return { kind: 'uncached' };
  const fields: RootField[] = [];
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.name.value === '__typename') continue;
    const definition = queryType.getFields()[selection.name.value];
    const returned = definition ? unwrapNonNull(definition.type) : null;
    const lookup =
      returned && isObjectType(returned) && policy.keys.has(returned.name) ? returned.name : null;
    fields.push({ responseKey: selection.alias?.value ?? selection.name.value, lookupOf: lookup });
  }
  return {
    kind: 'root',
    part: { type: queryType, selection: operation.selectionSet, maxAgeMs: maxAge * 1000, fragments },
    fields,
  };
}

function unwrapNonNull(type: GraphQLOutputType): GraphQLOutputType {
  return isNonNullType(type) ? type.ofType : type;
}

/**
 * Whether a selection may be kept, and for how long (seconds; null: it may not). A field of an
 * identified type (an entity, or a type declaring `@evictedBy`) or of the query type must declare
 * `@cached` itself; a field of a value type (Money, PageInfo, a connection) inherits its parent
 * field's hint unless it declares `@cached(maxAge: 0)`. Every identified type reached must declare
 * `@evictedBy` (else nothing would evict it); interfaces and unions are not kept.
 */
class Checker {
  constructor(
    private readonly policy: CachePolicy,
    private readonly fragments: Map<string, FragmentDefinitionNode>,
  ) {}

  selection(set: SelectionSetNode, type: GraphQLObjectType, inherited: number | null): number | null {
    const identified = this.policy.keys.has(type.name);
    if (identified && !this.policy.declared.has(type.name)) return null;
    let maxAge = Infinity;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name === '__typename') continue;
        const definition = type.getFields()[name];
        if (!definition) return null;
        const hint = this.policy.fieldMaxAge.get(`${type.name}.${name}`);
        const keyField = identified && this.policy.keys.get(type.name)?.includes(name);
        let age: number | null;
        if (hint !== undefined) age = hint;
        else if (keyField) age = Infinity;
        else if (!identified && type !== this.policy.schema.getQueryType() && inherited !== null)
          age = inherited;
        else return null;
        if (age === 0) return null;
        const named = getNamedType(definition.type);
        if (selection.selectionSet) {
          if (!isObjectType(named)) return null;
          const below = this.selection(selection.selectionSet, named, age === Infinity ? inherited : age);
          if (below === null) return null;
          age = Math.min(age, below);
        }
        maxAge = Math.min(maxAge, age);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (selection.typeCondition && selection.typeCondition.name.value !== type.name) return null;
        const below = this.selection(selection.selectionSet, type, inherited);
        if (below === null) return null;
        maxAge = Math.min(maxAge, below);
      } else {
        const fragment = this.fragments.get(selection.name.value);
        if (!fragment || fragment.typeCondition.name.value !== type.name) return null;
        const below = this.selection(fragment.selectionSet, type, inherited);
        if (below === null) return null;
        maxAge = Math.min(maxAge, below);
      }
    }
    return maxAge === Infinity ? (inherited ?? null) : maxAge;
  }
}

/**
 * The tags of an answer: for every object it holds of an identified type, `o:Type:key` (or
 * `a:Type` when the selection left its key out) and `t:Type`; with `lists`, `l:Type` for every
 * identified type met inside a list.
 */
export function tagsOf(
  policy: CachePolicy,
  value: unknown,
  part: Part,
  lists = false,
  /** The key of the top object when the answer leaves it out (an entity: its representation has it). */
  rootKey?: string,
): Set<string> {
  const tags = new Set<string>();
  const walk = (node: unknown, set: SelectionSetNode, type: GraphQLObjectType, inList: boolean) => {
    if (node === null || node === undefined) return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, set, type, true);
      return;
    }
    if (typeof node !== 'object') return;
    const object = node as Record<string, unknown>;
    const keyFields = policy.keys.get(type.name);
    if (keyFields) {
      const key = keyFields.map((f) => object[f]);
      tags.add(typeTag(type.name));
      if (node === value && rootKey !== undefined) tags.add(objectTag(type.name, rootKey));
      else if (key.every((k) => typeof k === 'string' || typeof k === 'number'))
        tags.add(objectTag(type.name, key.join(',')));
      else tags.add(keylessTag(type.name));
      if (lists && inList) tags.add(listTag(type.name));
    }
    const visit = (selections: SelectionSetNode) => {
      for (const selection of selections.selections) {
        if (selection.kind === Kind.FIELD) {
          if (!selection.selectionSet) continue;
          const definition = type.getFields()[selection.name.value];
          const named = definition && getNamedType(definition.type);
          if (!named || !isObjectType(named)) continue;
          const child = object[selection.alias?.value ?? selection.name.value];
          walk(child, selection.selectionSet, named, inList || (definition ? listy(definition.type) : false));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
        else {
          const fragment = part.fragments.get(selection.name.value);
          if (fragment) visit(fragment.selectionSet);
        }
      }
    };
    visit(set);
  };
  walk(value, part.selection, part.type, false);
  return tags;
}

function listy(type: GraphQLOutputType): boolean {
  return isListType(unwrapNonNull(type));
}
