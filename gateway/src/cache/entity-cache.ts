import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Principal } from '@c2c/platform/auth';
import type { Logger } from '@c2c/platform/core';
import type { CachePolicy } from './policy.ts';
import {
  analyseFetch,
  keylessTag,
  listTag,
  objectTag,
  subgraphTag,
  tagsOf,
  typeTag,
  type FetchShape,
} from './shape.ts';
import type { CacheEntry, CacheStore } from './store.ts';

/** A subgraph's answer as the data source hands it to Apollo Gateway. */
export interface SubgraphAnswer {
  data?: Record<string, unknown> | null;
  errors?: ReadonlyArray<{ path?: ReadonlyArray<string | number> } & Record<string, unknown>>;
  [other: string]: unknown;
}

export interface SubgraphQuery {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** An event as the cache needs it: its type and data (a CloudEvent has both). */
export interface AppliedEvent {
  type: string;
  data: unknown;
}

export interface EntityCacheOptions {
  policy: CachePolicy;
  store: CacheStore;
  log: Logger;
  /** The gateway's registry, for the cache's series. */
  registry?: Registry;
  /** A ceiling on every declared max age, in seconds (CACHE_MAX_AGE_S). */
  maxAgeCeilingS?: number;
}

/**
 * The gateway's entity cache (docs/cache.md). It sits in front of each subgraph fetch: the
 * representations of an `_entities` fetch are looked up one by one and only the missing ones are
 * asked of the subgraph; a root query whose fields are all `@cached` is kept whole. Keys carry the
 * subgraph, the fetch's text and other variables, and what authorization depends on (the caller's
 * role and scopes); entries carry tags for the objects they hold, which `applied(events)` removes.
 */
export class EntityCache {
  private readonly shapes = new Map<string, FetchShape>();
  private readonly lookups: Counter<'subgraph' | 'result'>;
  private readonly evictions: Counter<'reason'>;
  private readonly refused: Counter;
  private readonly failures: Counter<'operation'>;
  /** While no invalidation can reach this gateway (its backbone connection is down): every fetch goes to the subgraph. */
  private paused = false;

  constructor(private readonly options: EntityCacheOptions) {
    const registers = options.registry ? [options.registry] : [];
    this.lookups = new Counter({
      name: 'c2c_entity_cache_lookups_total',
      help: 'Entity cache lookups by the gateway, one per cacheable entity representation or root query, by subgraph and result (hit: not asked of the subgraph; miss: asked)',
      labelNames: ['subgraph', 'result'],
      registers,
    });
    this.evictions = new Counter({
      name: 'c2c_entity_cache_evictions_total',
      help: 'Entries removed from the entity cache, by reason (event: an applied domain event changed what they show; mutation: a mutation went to the subgraph they were read from; capacity: the byte bound; expired: their max age passed)',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['event', 'mutation', 'capacity', 'expired']) this.evictions.inc({ reason }, 0);
    this.refused = new Counter({
      name: 'c2c_entity_cache_stale_refused_total',
      help: 'Answers not stored because an event invalidated what they hold while they were being read',
      registers,
    });
    this.failures = new Counter({
      name: 'c2c_entity_cache_store_errors_total',
      help: 'Operations on a shared entity cache store (Redis) that failed; reads went to the subgraphs, answers were not stored',
      labelNames: ['operation'],
      registers,
    });
    const store = options.store;
    new Gauge({
      name: 'c2c_entity_cache_entries',
      help: `Entries in the entity cache (${store.name} store)`,
      registers,
      collect() {
        this.set(store.stats().entries);
      },
    });
    new Gauge({
      name: 'c2c_entity_cache_bytes',
      help: `Bytes the entity cache charges its entries (${store.name} store)`,
      registers,
      collect() {
        this.set(store.stats().bytes);
      },
    });
  }

  /** For the store's own evictions (capacity, expiry). */
  evicted(reason: 'capacity' | 'expired', count: number): void {
    this.evictions.inc({ reason }, count);
  }

  /** For a shared store's failures (it answers a failed read as a miss and stores nothing). */
  failed(operation: string, error: unknown): void {
    this.failures.inc({ operation });
    this.options.log.warn({ err: error, operation }, 'entity cache store failed');
  }

  /**
   * Stops answering from the cache (every fetch goes to its subgraph, nothing is stored) until
   * `resume()`: while the invalidations cannot reach this gateway.
   */
  pause(): void {
    this.paused = true;
  }

  /** Empties the store (invalidations may have been missed) and answers from it again. */
  async resume(): Promise<void> {
    await this.options.store.clear();
    this.paused = false;
  }

  get active(): boolean {
    return !this.paused;
  }

  /** Closes the store (a shared store's connection). */
  async close(): Promise<void> {
    await this.options.store.close();
  }

  /** How the cache treats a subgraph fetch (analysed once per fetch text). */
  shapeOf(query: string): FetchShape {
    let shape = this.shapes.get(query);
    if (!shape) {
      shape = analyseFetch(this.options.policy, query);
      if (this.shapes.size >= 5000) this.shapes.clear();
      this.shapes.set(query, shape);
    }
    return shape;
  }

  /** Answers a subgraph query from the cache where it may, asking `fetch` for the rest. */
  async resolve(
    subgraph: string,
    request: SubgraphQuery,
    principal: Principal,
    fetch: (variables: Record<string, unknown> | undefined) => Promise<SubgraphAnswer>,
  ): Promise<SubgraphAnswer> {
    const shape = this.shapeOf(request.query);
    if (shape.kind === 'uncached' || this.paused) return fetch(request.variables);
    if (shape.kind === 'root') return this.root(subgraph, request, principal, shape, fetch);
    return this.entities(subgraph, request, principal, shape, fetch);
  }

  /** The tags an applied event invalidates, from the subgraphs' `@evictedBy`. */
  tagsFor(event: AppliedEvent): string[] {
    const tags = new Set<string>();
    for (const eviction of this.options.policy.evictions.get(event.type) ?? []) {
      tags.add(keylessTag(eviction.type));
      if (eviction.kind === 'lists') tags.add(listTag(eviction.type));
      else if (eviction.kind === 'all') tags.add(typeTag(eviction.type));
      else {
        const value = (event.data as Record<string, unknown> | null)?.[eviction.field];
        // An event without the named field cannot say which object: every one of the type goes.
        if (typeof value === 'string' || typeof value === 'number')
          tags.add(objectTag(eviction.type, String(value)));
        else tags.add(typeTag(eviction.type));
      }
    }
    return [...tags];
  }

  /**
   * Called once a subgraph applied events (its consumer committed them) or published its own (its
   * mutation committed): removes every entry they change.
   */
  async applied(events: AppliedEvent[]): Promise<number> {
    const tags = new Set(events.flatMap((event) => this.tagsFor(event)));
    if (!tags.size) return 0;
    const removed = await this.options.store.invalidate([...tags]);
    if (removed) this.evictions.inc({ reason: 'event' }, removed);
    return removed;
  }

  /**
   * Called when a mutation sent to `subgraph` has answered, before its answer goes back to the
   * client: removes every entry read from that subgraph, so the client's next read sees its own
   * write even before the subgraph's relay publishes the event (which then evicts precisely in the
   * other subgraphs that follow it). Reads in flight meanwhile are not kept.
   */
  async mutated(subgraph: string): Promise<number> {
    let removed: number;
    try {
      removed = await this.options.store.invalidate([subgraphTag(subgraph)]);
    } catch (error) {
      // The mutation is done: its answer goes to the client. A shared store that cannot be reached
      // is left to the event (which evicts once published) and the max age.
      this.failures.inc({ operation: 'invalidate' });
      this.options.log.error({ err: error, subgraph }, 'entity cache: could not evict after a mutation');
      return 0;
    }
    if (removed) this.evictions.inc({ reason: 'mutation' }, removed);
    return removed;
  }

  private ttl(maxAgeMs: number): number {
    const ceiling = this.options.maxAgeCeilingS;
    return ceiling === undefined ? maxAgeMs : Math.min(maxAgeMs, ceiling * 1000);
  }

  private async root(
    subgraph: string,
    request: SubgraphQuery,
    principal: Principal,
    shape: Extract<FetchShape, { kind: 'root' }>,
    fetch: (variables: Record<string, unknown> | undefined) => Promise<SubgraphAnswer>,
  ): Promise<SubgraphAnswer> {
    const { store, policy } = this.options;
    const key = digest([
      subgraph,
      request.query,
      JSON.stringify(request.variables ?? {}),
      authKey(principal),
    ]);
    const [cached] = await store.get([key]);
    this.lookups.inc({ subgraph, result: cached === undefined ? 'miss' : 'hit' });
    if (cached !== undefined) return { data: JSON.parse(cached) as Record<string, unknown> };
    const ticket = await store.begin();
    let answer: SubgraphAnswer;
    try {
      answer = await fetch(request.variables);
    } catch (error) {
      store.end(ticket);
      throw error;
    }
    if (answer.errors?.length || !answer.data) {
      store.end(ticket);
      return answer;
    }
    const tags = tagsOf(policy, answer.data, shape.part, true);
    tags.add(subgraphTag(subgraph));
    for (const field of shape.fields) {
      // A lookup that found nothing changes when the object appears: the type's lookups evict it.
      if (field.lookupOf && answer.data[field.responseKey] == null) tags.add(listTag(field.lookupOf));
    }
    const value = JSON.stringify(answer.data);
    const refused = await store.set(ticket, [
      { key, value, tags: [...tags], ttlMs: this.ttl(shape.part.maxAgeMs) },
    ]);
    if (refused) this.refused.inc(refused);
    return answer;
  }

  private async entities(
    subgraph: string,
    request: SubgraphQuery,
    principal: Principal,
    shape: Extract<FetchShape, { kind: 'entities' }>,
    fetch: (variables: Record<string, unknown> | undefined) => Promise<SubgraphAnswer>,
  ): Promise<SubgraphAnswer> {
    const { store, policy } = this.options;
    const { representations, ...others } = request.variables ?? {};
    if (!Array.isArray(representations)) return fetch(request.variables);
    const prefix = digest([subgraph, request.query, JSON.stringify(others), authKey(principal)]);
    // Per representation: its part (null: not cacheable) and key.
    const plan = representations.map((representation: unknown) => {
      const typename = (representation as { __typename?: unknown } | null)?.__typename;
      const part = typeof typename === 'string' ? shape.parts.get(typename) : undefined;
      return part ? { part, key: digest([prefix, JSON.stringify(representation)]) } : null;
    });
    const keyed = plan.flatMap((p, index) => (p ? [{ index, key: p.key }] : []));
    const found = await store.get(keyed.map((k) => k.key));
    const results: unknown[] = new Array(representations.length);
    const known = new Set<number>();
    keyed.forEach(({ index }, i) => {
      const value = found[i];
      this.lookups.inc({ subgraph, result: value === undefined ? 'miss' : 'hit' });
      if (value !== undefined) {
        results[index] = JSON.parse(value) as unknown;
        known.add(index);
      }
    });
    if (known.size === representations.length) return { data: { _entities: results } };
    // Ask the subgraph for the others only, in their order.
    const missing = representations.flatMap((_, index) => (known.has(index) ? [] : [index]));
    const ticket = await store.begin();
    let answer: SubgraphAnswer;
    try {
      answer = await fetch(
        known.size
          ? { ...others, representations: missing.map((i) => representations[i]) }
          : request.variables,
      );
    } catch (error) {
      store.end(ticket);
      throw error;
    }
    const fetched = answer.data?._entities;
    if (!Array.isArray(fetched) || fetched.length !== missing.length) {
      store.end(ticket);
      if (!known.size) return answer;
      // A malformed answer: as it came, with no cached representation mixed in.
      return answer;
    }
    // Errors located on one representation keep only that one out; any other error keeps all out.
    const failed = new Set<number>();
    let unlocated = false;
    const errors = (answer.errors ?? []).map((error) => {
      const path = error.path;
      if (path && path[0] === '_entities' && typeof path[1] === 'number') {
        const original = missing[path[1]];
        if (original !== undefined) {
          failed.add(original);
          return { ...error, path: ['_entities', original, ...path.slice(2)] };
        }
      }
      unlocated = true;
      return error;
    });
    const entries: CacheEntry[] = [];
    missing.forEach((original, i) => {
      const value = fetched[i];
      results[original] = value;
      const entry = plan[original];
      if (!entry || unlocated || failed.has(original) || value === null || value === undefined) return;
      const representation = representations[original] as Record<string, unknown>;
      const keyFields = policy.keys.get(entry.part.type.name) ?? [];
      const key = keyFields.map((f) => representation[f]);
      const simple = key.every((k) => typeof k === 'string' || typeof k === 'number');
      const tags = tagsOf(policy, value, entry.part, false, simple ? key.join(',') : undefined);
      entries.push({
        key: entry.key,
        value: JSON.stringify(value),
        tags: [...tags, subgraphTag(subgraph)],
        ttlMs: this.ttl(entry.part.maxAgeMs),
      });
    });
    if (entries.length) {
      const refused = await store.set(ticket, entries);
      if (refused) this.refused.inc(refused);
    } else store.end(ticket);
    return {
      ...answer,
      data: { ...answer.data, _entities: results },
      ...(errors.length ? { errors } : {}),
    };
  }
}

/** What authorization depends on (the caller's role and scopes), the same for every caller who holds them. */
export function authKey(principal: Principal): string {
  return `${principal.role ?? ''}|${[...new Set(principal.scopes)].sort().join(' ')}`;
}

function digest(parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('base64url');
}
