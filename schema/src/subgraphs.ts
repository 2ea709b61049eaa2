import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { expandEnv } from './compose.ts';

/** The repository root (where rover.yaml is). */
export const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..');
/** The one list of subgraphs. */
export const ROVER_CONFIG = join(REPOSITORY_ROOT, 'rover.yaml');
/** Ownership rules, which also name each subgraph's system of record. */
export const OWNERSHIP_RULES = join(REPOSITORY_ROOT, 'schema', 'ownership.yaml');

/** One subgraph of rover.yaml, with what processes need to run and reach it. */
export interface SubgraphInfo {
  /** Its name in rover.yaml: also its database schema, event source and composed graph name. */
  name: string;
  /** Upper-case prefix of its environment variables: `<PREFIX>_URL`, `<PREFIX>_SUBGRAPH_SECRET`, `<PREFIX>_PORT`. */
  envPrefix: string;
  /** The routing URL with `${env.…:-default}` defaults applied. */
  routingUrl: string;
  /** The SDL file. */
  schemaFile: string;
  /** The subgraph's package directory (where its schema file is). */
  dir: string;
  /** The system of record it fronts (CRM, billing, ERP, …), from schema/ownership.yaml `systems`. */
  system: string;
}

/** `customer` → `CUSTOMER`, `usage-meter` → `USAGE_METER`. */
export function envPrefixOf(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** Subgraph name → system of record label, from the ownership rules' `systems` map. */
export function systemLabels(rulesPath: string = OWNERSHIP_RULES): Record<string, string> {
  if (!existsSync(rulesPath)) return {};
  const doc = YAML.parse(readFileSync(rulesPath, 'utf8')) as { systems?: Record<string, string> } | null;
  return { ...(doc?.systems ?? {}) };
}

/**
 * The subgraph that is the system of record `label` (CRM, billing, ERP) per the ownership rules:
 * how tools that must reach one system's data (the benchmark's floor) find its database schema
 * without naming a subgraph.
 */
export function subgraphOfSystem(label: string, rulesPath: string = OWNERSHIP_RULES): string {
  const found = Object.entries(systemLabels(rulesPath)).find(([, l]) => l === label);
  if (!found) throw new Error(`${rulesPath}: no subgraph is the system ${label} (systems: …)`);
  return found[0];
}

/**
 * The subgraphs of a Rover config, in its order. Everything that starts, reaches, signs for or
 * lists subgraphs derives the list from here, so adding one to rover.yaml is the only edit.
 */
export function subgraphsOf(
  roverPath: string = ROVER_CONFIG,
  rulesPath: string = OWNERSHIP_RULES,
  env: Record<string, string | undefined> = {},
): SubgraphInfo[] {
  const doc = YAML.parse(readFileSync(roverPath, 'utf8')) as {
    subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }>;
  } | null;
  if (!doc?.subgraphs) throw new Error(`${roverPath}: no subgraphs listed`);
  const systems = systemLabels(rulesPath);
  const base = dirname(resolve(roverPath));
  return Object.entries(doc.subgraphs).map(([name, entry]) => {
    // The name is also a database schema, a role suffix and an event source: a plain identifier.
    if (!/^[a-z][a-z0-9_]{0,39}$/.test(name))
      throw new Error(
        `${roverPath}: subgraph name ${JSON.stringify(name)} must be lower-case letters, digits and _ (it names a database schema)`,
      );
    if (!entry?.routing_url) throw new Error(`${roverPath}: subgraph ${name} has no routing_url`);
    if (!entry.schema?.file) throw new Error(`${roverPath}: subgraph ${name} has no schema.file`);
    const schemaFile = resolve(base, entry.schema.file);
    return {
      name,
      envPrefix: envPrefixOf(name),
      routingUrl: expandEnv(entry.routing_url, env),
      schemaFile,
      dir: dirname(schemaFile),
      system: systems[name] ?? name,
    };
  });
}

/** The subgraphs composed into a supergraph: each `join__graph` value's name and routing URL. */
export function supergraphSubgraphs(supergraphSdl: string): { name: string; url: string }[] {
  const found: { name: string; url: string }[] = [];
  for (const match of supergraphSdl.matchAll(
    /@join__graph\(\s*name:\s*"([^"]+)"\s*,\s*url:\s*"([^"]*)"\s*\)/g,
  ))
    found.push({ name: match[1]!, url: match[2]! });
  return found;
}
