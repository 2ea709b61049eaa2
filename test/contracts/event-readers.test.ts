import { join } from 'node:path';
import { customerConsumers } from '@c2c/customer/consumers';
import { financeConsumers } from '@c2c/finance/consumers';
import { consumerSourcesFrom } from '@c2c/platform/events/catalog';
import type { ReadingEffect } from '@c2c/platform/events/reading';
import { EVENT_CATALOG } from '@c2c/schema/events';
import { minimalInstance, readEventContracts } from '@c2c/schema/events/contracts';
import { subscriptionConsumers } from '@c2c/subscription/consumers';
import { describe, expect, it } from 'vitest';

// Each subgraph's consumers, as its subgraph.ts registers them. The services they close over are
// not called: only the readers (which parse an event's data) are exercised here.
const unused = {} as never;
const definitions = [
  { name: 'customer', consumers: customerConsumers({ contracts: unused, orders: unused, changes: unused }) },
  {
    name: 'subscription',
    consumers: subscriptionConsumers({
      billTo: unused,
      erpAcknowledgements: unused,
      crmAcknowledgements: unused,
      orders: unused,
      contractChanges: unused,
    }),
  },
  { name: 'finance', consumers: financeConsumers({ posting: unused, replicas: unused }) },
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
      'customer.order': ['finance', 'subscription'],
      'subscription.order': ['customer'],
      'customer.contract-change': ['subscription'],
      'subscription.contract-change': ['customer'],
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
