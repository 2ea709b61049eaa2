import type { ASTNode, DocumentNode } from 'graphql';
import { graphql } from './graphql.ts';
import type { Location } from './types.ts';

/** A subgraph as the check sees it: rover.yaml's entry, or the proposed schema that replaces it. */
export interface SubgraphSource {
  name: string;
  routingUrl: string;
  /** Path shown in messages: relative to the repository root when inside it. */
  file: string;
  typeDefs: string;
  /** True for the schema given with `--subgraph NAME --schema FILE`. */
  proposed?: boolean;
}

export interface ParsedSubgraph extends SubgraphSource {
  document: DocumentNode;
}

/**
 * Parses a subgraph SDL with a Source named after the subgraph, so that composition errors, whose
 * AST nodes keep their Source, can say which subgraph and line they come from.
 */
export function parseSubgraph(source: SubgraphSource): ParsedSubgraph {
  return { ...source, document: graphql.parse(new graphql.Source(source.typeDefs, source.name)) };
}

/** The 1-based position of an AST node in its subgraph's file. */
export function locate(
  subgraph: Pick<SubgraphSource, 'file'>,
  node: ASTNode | undefined,
): Location | undefined {
  const token = node?.loc?.startToken;
  return token ? { file: subgraph.file, line: token.line, column: token.column } : undefined;
}
