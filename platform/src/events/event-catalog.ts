/** What the runtime needs of the event catalog (schema/events/catalog.json): producers and consumers per type. */
export interface EventCatalogView {
  events: Record<string, { producer: string; consumers: readonly string[] }>;
}

/**
 * Checks a subgraph's consumers against the catalog and returns, per consumer, the producing
 * subgraphs of the types it handles — the streams a transport with a stream per source (NATS)
 * must attach it to. Throws, naming every mismatch, when a consumer handles a type the catalog
 * does not list for it, or the catalog lists a type for one of this subgraph's consumers that
 * the consumer does not handle: either would silently starve or flood a consumer.
 */
export function consumerSourcesFrom(
  catalog: EventCatalogView,
  subgraph: string,
  consumers: Record<string, Record<string, unknown>>,
): Record<string, string[]> {
  const problems: string[] = [];
  const sources: Record<string, string[]> = {};
  for (const [consumer, handlers] of Object.entries(consumers)) {
    const found = new Set<string>();
    for (const type of Object.keys(handlers)) {
      const entry = catalog.events[type];
      if (!entry) problems.push(`${consumer} handles ${type}, which is not in the event catalog`);
      else if (!entry.consumers.includes(consumer))
        problems.push(
          `${consumer} handles ${type}, but the catalog does not list it as a consumer of ${type}`,
        );
      else found.add(entry.producer);
    }
    sources[consumer] = [...found].sort();
  }
  for (const [type, entry] of Object.entries(catalog.events)) {
    for (const consumer of entry.consumers) {
      if (!consumer.startsWith(`${subgraph}.`)) continue;
      if (!consumers[consumer])
        problems.push(`the catalog lists ${consumer} for ${type}, but ${subgraph} has no such consumer`);
      else if (!(type in consumers[consumer]))
        problems.push(`the catalog lists ${consumer} for ${type}, but it has no handler for ${type}`);
    }
  }
  if (problems.length)
    throw new Error(`subgraph ${subgraph} does not match the event catalog: ${problems.join('; ')}`);
  return sources;
}
