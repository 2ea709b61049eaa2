import catalog from '../../events/catalog.json' with { type: 'json' };

/** One event type of the catalog: which subgraph produces it and which durable consumers read it. */
export interface EventTypeEntry {
  /** The producing subgraph (a name in rover.yaml); also the CloudEvents `source`. */
  producer: string;
  /** What the CloudEvents `subject` is, e.g. "invoice id". */
  subject: string;
  /** Durable consumer names, `<subgraph>.<name>`. */
  consumers: string[];
}

/** `schema/events/catalog.json`: every event type, its producer and consumers, and what each consumer does. */
export interface EventCatalog {
  events: Record<string, EventTypeEntry>;
  /** Durable consumer name → what it does with the events (for docs/events.md). */
  consumers: Record<string, string>;
}

/** The committed event catalog (bundled into built entry points). */
export const EVENT_CATALOG: EventCatalog = catalog;

/** The subgraph a durable consumer belongs to: the part of its name before the first dot. */
export function subgraphOfConsumer(consumer: string): string {
  const dot = consumer.indexOf('.');
  return dot < 0 ? consumer : consumer.slice(0, dot);
}
