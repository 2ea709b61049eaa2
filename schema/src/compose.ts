import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { composeServices, type CompositionResult } from '@apollo/composition';
import { parse } from 'graphql';
import YAML from 'yaml';

export interface SubgraphEntry {
  name: string;
  routingUrl: string;
  schemaFile: string;
  typeDefs: string;
}

export interface RoverConfig {
  federationVersion: string | null;
  subgraphs: SubgraphEntry[];
}

/**
 * Expands Rover's `${env.NAME}` and `${env.NAME:-default}` placeholders. `env` defaults to an empty
 * map so that the committed supergraph never depends on the composing machine's environment.
 */
export function expandEnv(value: string, env: Record<string, string | undefined> = {}): string {
  return value.replace(
    /\$\{env\.([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (whole, name: string, fallback?: string) => {
      const given = env[name];
      if (given !== undefined && given !== '') return given;
      if (fallback !== undefined) return fallback;
      throw new Error(`rover.yaml refers to \${env.${name}} but ${name} is not set and has no default`);
    },
  );
}

/** Reads a Rover supergraph config (rover.yaml) with its subgraph schema files. */
export function readRoverConfig(path: string, env: Record<string, string | undefined> = {}): RoverConfig {
  const doc = YAML.parse(readFileSync(path, 'utf8')) as {
    federation_version?: string;
    subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }>;
  };
  if (!doc?.subgraphs || typeof doc.subgraphs !== 'object') throw new Error(`${path}: no subgraphs listed`);
  const base = dirname(resolve(path));
  const subgraphs = Object.entries(doc.subgraphs).map(([name, entry]) => {
    if (!entry?.routing_url) throw new Error(`${path}: subgraph ${name} has no routing_url`);
    if (!entry.schema?.file)
      throw new Error(`${path}: subgraph ${name} has no schema.file (only file schemas work offline)`);
    const schemaFile = resolve(base, entry.schema.file);
    return {
      name,
      routingUrl: expandEnv(entry.routing_url, env),
      schemaFile,
      typeDefs: readFileSync(schemaFile, 'utf8'),
    };
  });
  return { federationVersion: doc.federation_version ?? null, subgraphs };
}

/** Composes the subgraphs with @apollo/composition, as `rover supergraph compose` does. */
export function composeSupergraph(config: RoverConfig): CompositionResult {
  return composeServices(
    config.subgraphs.map((s) => ({ name: s.name, url: s.routingUrl, typeDefs: parse(s.typeDefs) })),
  );
}
