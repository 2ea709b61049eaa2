// Vitest setup (int and e2e projects): every event a producer appends to an outbox in any test is
// validated against its contract in schema/events/; a violation fails the append and the test.
import { join } from 'node:path';
import { checkAppendedEvents } from '@c2c/platform/events';
import { createEventValidator, readEventContracts } from '@c2c/schema/events/contracts';

const contracts = readEventContracts(join(import.meta.dirname, '..', '..', 'schema', 'events'));
const validate = createEventValidator(contracts);
const producers = new Set(Object.values(contracts.catalog.events).map((e) => e.producer));

checkAppendedEvents((source, type, data) => {
  // Platform tests append synthetic events from sources that are no subgraph: not contracts.
  if (!producers.has(source)) return [];
  const entry = contracts.catalog.events[type];
  if (!entry) return [`${source} appended ${type}, which is not in schema/events/catalog.json`];
  if (entry.producer !== source)
    return [`${source} appended ${type}, which the catalog says ${entry.producer} produces`];
  return validate(type, data);
});
