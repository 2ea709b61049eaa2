import { join } from 'node:path';
import { buildCustomerSubgraph } from '@c2c/customer';
import { buildFinanceSubgraph } from '@c2c/finance';
import { consumerSourcesFrom, type ReadingEffect } from '@c2c/platform/events';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import { EVENT_CATALOG } from '@c2c/schema/events';
import { minimalInstance, readEventContracts } from '@c2c/schema/events/contracts';
import { buildSubscriptionSubgraph } from '@c2c/subscription';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

// Building a subgraph only wires it: nothing touches the database until a request or an event
// arrives, so the consumers (and their readers) can be inspected without one.
const deps = {
  db: undefined as unknown as SubgraphDeps['db'],
  log: pino({ enabled: false }),
  clock: { now: () => new Date('2026-01-01T00:00:00Z') },
  afterCommit: () => {},
} satisfies SubgraphDeps;
const definitions = [
  buildCustomerSubgraph(deps),
  buildSubscriptionSubgraph(deps),
  buildFinanceSubgraph(deps),
];
const contracts = readEventContracts(join(import.meta.dirname, '..', '..', 'schema', 'events'));

describe('event contracts and the consumers that read them', () => {
  it('every consumer of every subgraph matches the catalog, and its sources are the producers it reads', () => {
    const sources = Object.fromEntries(
      definitions.flatMap((d) => Object.entries(consumerSourcesFrom(EVENT_CATALOG, d.name, d.consumers))),
    );
    expect(sources).toEqual({
      'customer.contract-value': ['subscription'],
      'subscription.bill-to': ['customer'],
      'subscription.erp-ack': ['finance'],
      'subscription.crm-ack': ['customer'],
      'finance.billing': ['subscription'],
      'finance.customer-master': ['customer'],
    });
    // Every consumer the catalog names exists in the code.
    const inCode = new Set(definitions.flatMap((d) => Object.keys(d.consumers)));
    for (const [type, entry] of Object.entries(EVENT_CATALOG.events))
      for (const consumer of entry.consumers)
        expect(inCode.has(consumer), `${consumer} (${type})`).toBe(true);
  });

  const pairs = Object.entries(EVENT_CATALOG.events).flatMap(([type, entry]) =>
    entry.consumers.map((consumer) => ({ type, consumer })),
  );
  it.each(pairs)(
    '$consumer reads every $type its contract allows: the full example and the minimal one',
    ({ type, consumer }) => {
      const definition = definitions.find((d) => consumer in d.consumers)!;
      const effect = definition.consumers[consumer]![type] as ReadingEffect;
      expect(effect.reader, `${consumer} must read ${type} with reading(reader, …)`).toBeDefined();
      const schema = contracts.schemas[type]!;
      expect(schema.examples?.length).toBeGreaterThan(0);
      for (const example of schema.examples!) {
        const full = effect.reader.safeParse(example);
        expect(full.success, `full example: ${JSON.stringify(!full.success && full.error)}`).toBe(true);
        const minimal = minimalInstance(schema, example);
        const reduced = effect.reader.safeParse(minimal);
        expect(
          reduced.success,
          `minimal example ${JSON.stringify(minimal)}: ${JSON.stringify(!reduced.success && reduced.error)}`,
        ).toBe(true);
      }
    },
  );

  it('a consumer that handles a type the catalog does not give it is refused, naming both', () => {
    const [customer] = definitions;
    expect(() =>
      consumerSourcesFrom(EVENT_CATALOG, 'customer', {
        ...customer!.consumers,
        'customer.contract-value': {
          ...customer!.consumers['customer.contract-value'],
          'invoice.issued': async () => {},
        },
      }),
    ).toThrow(/customer\.contract-value handles invoice\.issued, but the catalog does not list it/);
    expect(() => consumerSourcesFrom(EVENT_CATALOG, 'customer', {})).toThrow(
      /the catalog lists customer\.contract-value for subscription\.created, but customer has no such consumer/,
    );
  });
});
