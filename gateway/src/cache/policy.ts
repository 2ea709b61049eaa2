import {
  buildASTSchema,
  Kind,
  parse,
  type ConstDirectiveNode,
  type ConstValueNode,
  type GraphQLSchema,
} from 'graphql';

/**
 * What the subgraphs declared about caching (docs/cache.md), read from the composed supergraph:
 * `@cached(maxAge:)` on the fields a subgraph resolves, `@evictedBy(events:)` on its types.
 */
export interface CachePolicy {
  /** The supergraph as a schema (field types, for walking a subgraph fetch and its answer). */
  schema: GraphQLSchema;
  /** `Type.field` → seconds its value may be kept (0: never). */
  fieldMaxAge: Map<string, number>;
  /**
   * Types whose objects have an identity the cache tags entries with: entities (their `@key`
   * fields) and types declaring `@evictedBy` (their `id`). Type → key field names.
   */
  keys: Map<string, string[]>;
  /** Types that declared `@evictedBy` (possibly empty: never changes once created). */
  declared: Set<string>;
  /** Event type → what it evicts. */
  evictions: Map<string, Eviction[]>;
}

/**
 * One effect of an event: the object whose key is `data[field]` (`object`), every object of the
 * type (`all`), or every lookup and list of the type (`lists`).
 */
export type Eviction =
  | { type: string; kind: 'object'; field: string }
  | { type: string; kind: 'all' }
  | { type: string; kind: 'lists' };

function argument(directive: ConstDirectiveNode, name: string): ConstValueNode | undefined {
  return directive.arguments?.find((a) => a.name.value === name)?.value;
}

/** Parses one `@evictedBy` entry: `type:field`, `type:*` or `type`. */
export function parseEviction(type: string, spec: string): { event: string; eviction: Eviction } {
  const colon = spec.indexOf(':');
  if (colon === -1) return { event: spec, eviction: { type, kind: 'lists' } };
  const event = spec.slice(0, colon);
  const field = spec.slice(colon + 1);
  if (!event || !field)
    throw new Error(`@evictedBy on ${type}: "${spec}" is not "type", "type:field" or "type:*"`);
  return { event, eviction: field === '*' ? { type, kind: 'all' } : { type, kind: 'object', field } };
}

/** Reads the cache policy from the supergraph SDL (the one the gateway serves). */
export function cachePolicyFromSdl(supergraphSdl: string): CachePolicy {
  const document = parse(supergraphSdl);
  const schema = buildASTSchema(document, { assumeValidSDL: true });
  const policy: CachePolicy = {
    schema,
    fieldMaxAge: new Map(),
    keys: new Map(),
    declared: new Set(),
    evictions: new Map(),
  };
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION)
      continue;
    const type = definition.name.value;
    for (const directive of definition.directives ?? []) {
      const name = directive.name.value;
      if (name === 'join__type' && !policy.keys.has(type)) {
        const key = argument(directive, 'key');
        // Only simple keys (field names) identify an object in a tag; composite keys are never cached.
        if (key?.kind === Kind.STRING && /^[A-Za-z_][A-Za-z0-9_ ]*$/.test(key.value))
          policy.keys.set(type, key.value.trim().split(/\s+/));
      } else if (name === 'evictedBy') {
        policy.declared.add(type);
        const events = argument(directive, 'events');
        const specs = events?.kind === Kind.LIST ? events.values : events ? [events] : [];
        for (const spec of specs) {
          if (spec.kind !== Kind.STRING) continue;
          const { event, eviction } = parseEviction(type, spec.value);
          const list = policy.evictions.get(event) ?? [];
          list.push(eviction);
          policy.evictions.set(event, list);
        }
      }
    }
    for (const field of definition.fields ?? []) {
      const cached = field.directives?.find((d) => d.name.value === 'cached');
      const maxAge = cached && argument(cached, 'maxAge');
      if (maxAge?.kind === Kind.INT)
        policy.fieldMaxAge.set(`${type}.${field.name.value}`, Number(maxAge.value));
    }
  }
  for (const type of policy.declared) if (!policy.keys.has(type)) policy.keys.set(type, ['id']);
  return policy;
}
