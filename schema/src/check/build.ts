import { createRequire } from 'node:module';
import { composeServices } from '@apollo/composition';
import { ROUTER_SUPPORTED_SUPERGRAPH_FEATURES, Supergraph } from '@apollo/federation-internals';
import type { ASTNode, GraphQLError, GraphQLSchema } from 'graphql';
import { locate, parseSubgraph, type ParsedSubgraph, type SubgraphSource } from './subgraphs.ts';
import { formatLocation, taskResult, type Finding, type Location, type TaskResult } from './types.ts';

export interface BuildInput {
  subgraphs: SubgraphSource[];
  /** rover.yaml's `federation_version` (`=2.14.4`), compared with the installed composition. */
  federationVersion: string | null;
  /** The committed supergraph and its path; null skips the freshness check (proposed-schema mode). */
  committed: { path: string; sdl: string } | null;
}

export interface BuildOutput {
  result: TaskResult;
  /** Parsed subgraphs; missing when a schema does not parse. */
  subgraphs?: ParsedSubgraph[];
  supergraphSdl?: string;
  /** The client-facing API schema of the new supergraph (graphql's CJS instance, see graphql.ts). */
  apiSchema?: GraphQLSchema;
}

/** The installed @apollo/composition version, which is the federation version we compose with. */
export function compositionVersion(): string {
  return (createRequire(import.meta.url)('@apollo/composition/package.json') as { version: string }).version;
}

/** The API schema (what clients can query) of a supergraph SDL. */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  // The supergraph links @requiresScopes `for: SECURITY`; the check reads it like a router does
  // (our gateway enforces it itself, see gateway/src/gateway.ts withoutSecurityPurpose).
  return Supergraph.build(supergraphSdl, { supportedFeatures: ROUTER_SUPPORTED_SUPERGRAPH_FEATURES })
    .apiSchema()
    .toGraphQLJSSchema();
}

function where(
  subgraphs: SubgraphSource[],
  nodes: readonly ASTNode[] | undefined,
): { subgraph?: string; locations: Location[]; text: string } {
  const locations: Location[] = [];
  const names: string[] = [];
  let first: string | undefined;
  for (const node of nodes ?? []) {
    const name = node.loc?.source.name ?? (node as { subgraph?: string }).subgraph;
    const subgraph = subgraphs.find((s) => s.name === name);
    if (!subgraph) continue;
    first ??= subgraph.name;
    const location = locate(subgraph, node);
    if (location) locations.push(location);
    names.push(location ? `${subgraph.name} ${formatLocation(location)}` : subgraph.name);
  }
  return {
    ...(first ? { subgraph: first } : {}),
    locations,
    text: names.length ? ` (at ${names.join(', ')})` : '',
  };
}

/**
 * Build check: parses every subgraph, composes them with @apollo/composition (as `rover supergraph
 * compose` does at the pinned federation version) and reports errors and hints with the subgraph and
 * line; then checks that the committed supergraph is exactly this composition.
 */
export function buildCheck(input: BuildInput): BuildOutput {
  const findings: Finding[] = [];
  const installed = compositionVersion();
  const pinned = input.federationVersion?.replace(/^=/, '');
  if (pinned && pinned !== installed) {
    findings.push({
      task: 'Build',
      severity: 'FAIL',
      code: 'FEDERATION_VERSION_MISMATCH',
      description: `rover.yaml pins federation_version =${pinned} but @apollo/composition ${installed} is installed: pin both to the same version`,
    });
  }

  const parsed: ParsedSubgraph[] = [];
  for (const source of input.subgraphs) {
    try {
      parsed.push(parseSubgraph(source));
    } catch (error) {
      const e = error as GraphQLError;
      const loc = e.locations?.[0];
      findings.push({
        task: 'Build',
        severity: 'FAIL',
        code: 'INVALID_GRAPHQL',
        description: `${source.name}: ${e.message}${loc ? ` (at ${source.file}:${loc.line}:${loc.column})` : ''}`,
        subgraph: source.name,
        ...(loc ? { location: { file: source.file, line: loc.line, column: loc.column } } : {}),
      });
    }
  }
  if (parsed.length < input.subgraphs.length) {
    return { result: taskResult('Build', `${findings.length} subgraph schema(s) do not parse`, findings) };
  }

  const composition = composeServices(
    parsed.map((s) => ({ name: s.name, url: s.routingUrl, typeDefs: s.document })),
  );
  if (composition.errors) {
    for (const error of composition.errors) {
      const at = where(input.subgraphs, error.nodes);
      findings.push({
        task: 'Build',
        severity: 'FAIL',
        code: String(error.extensions?.code ?? 'COMPOSITION_ERROR'),
        description: `${error.message}${at.text}`,
        ...(at.subgraph ? { subgraph: at.subgraph } : {}),
        ...(at.locations[0] ? { location: at.locations[0] } : {}),
      });
    }
    return {
      result: taskResult('Build', `composition failed with ${composition.errors.length} error(s)`, findings),
      subgraphs: parsed,
    };
  }

  for (const hint of composition.hints) {
    const at = where(input.subgraphs, hint.nodes);
    findings.push({
      task: 'Build',
      severity: 'WARN',
      code: hint.definition.code,
      description: `${hint.message}${at.text}`,
      ...(hint.coordinate ? { coordinate: hint.coordinate } : {}),
      ...(at.subgraph ? { subgraph: at.subgraph } : {}),
      ...(at.locations[0] ? { location: at.locations[0] } : {}),
    });
  }

  if (input.committed && input.committed.sdl !== composition.supergraphSdl) {
    findings.push({
      task: 'Build',
      severity: 'FAIL',
      code: 'SUPERGRAPH_STALE',
      description: `${input.committed.path} is not what rover.yaml composes to: run npm run compose and commit the result`,
    });
  }

  const apiSchema = apiSchemaOf(composition.supergraphSdl);
  return {
    result: taskResult(
      'Build',
      `composed ${parsed.length} subgraphs with federation ${installed} (${composition.hints.length} hint(s))`,
      findings,
    ),
    subgraphs: parsed,
    supergraphSdl: composition.supergraphSdl,
    apiSchema,
  };
}
