import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { platformNames, withPlatformSdl } from '@c2c/platform/subgraph/sdl';
import { composeSupergraph, readRoverConfig } from '@c2c/schema/compose';
import { subgraphsOf } from '@c2c/schema/subgraphs';
import { readEventContracts, renderEventTables, withEventTables } from '@c2c/schema/events/contracts';
import { apiSchemaSdl } from '../schema/src/check/build.ts';

const USAGE = `Usage: npm run compose -- [--config rover.yaml] [--output schema/supergraph.graphql] [--use-env]

Writes each subgraph's platform-owned SDL (dead letters, replay, audit log; declared once in
platform/src/subgraph/platform-sdl.ts) into its schema.graphql, then composes the subgraphs listed
in the Rover config into a supergraph schema with @apollo/composition.
Routing URLs use their \${env.NAME:-default} defaults unless --use-env is given, so the committed
file does not depend on your shell. Also regenerates the event catalog tables of docs/events.md
from schema/events/ (catalog.json and one JSON Schema per event type).`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      config: { type: 'string', default: 'rover.yaml' },
      output: { type: 'string', default: 'schema/supergraph.graphql' },
      'use-env': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  // A usage error: say which and how to call, without a stack trace.
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
// The platform-owned SDL (dead letters, replay, audit) of each subgraph first: composition reads it.
for (const subgraph of subgraphsOf(resolve(values.config))) {
  if (!subgraph.system) continue;
  const sdl = readFileSync(subgraph.schemaFile, 'utf8');
  const updated = withPlatformSdl(sdl, platformNames(subgraph.name, subgraph.system));
  if (updated !== sdl) {
    writeFileSync(subgraph.schemaFile, updated);
    console.log(`updated the platform-owned SDL of ${subgraph.name}`);
  }
}
const config = readRoverConfig(resolve(values.config), values['use-env'] ? process.env : {});
const result = composeSupergraph(config);
if (result.errors) {
  for (const error of result.errors)
    console.error(`error[${error.extensions?.code ?? 'COMPOSITION'}]: ${error.message}`);
  console.error(`composition failed with ${result.errors.length} error(s)`);
  process.exit(1);
}
for (const hint of result.hints) console.warn(`hint[${hint.definition.code}]: ${hint.message}`);
writeFileSync(resolve(values.output), result.supergraphSdl);
console.log(`composed ${config.subgraphs.length} subgraphs into ${values.output}`);
// The client-facing API schema beside it (schema/api.graphql): what code generators read.
const apiOutput = join(dirname(values.output), 'api.graphql');
writeFileSync(resolve(apiOutput), apiSchemaSdl(result.supergraphSdl));
console.log(`wrote the client API schema to ${apiOutput}`);

const eventsDoc = resolve('docs/events.md');
const tables = renderEventTables(readEventContracts(resolve('schema/events')));
let doc = withEventTables(readFileSync(eventsDoc, 'utf8'), tables);
try {
  // Keep the file as the formatter would write it, so format:check stays green (dev installs only).
  const prettier = await import('prettier');
  doc = await prettier.format(doc, { ...(await prettier.resolveConfig(eventsDoc)), filepath: eventsDoc });
} catch {
  // No formatter installed: the schema check compares the tables whatever their alignment.
}
writeFileSync(eventsDoc, doc);
console.log('wrote the event catalog tables of docs/events.md from schema/events/');
