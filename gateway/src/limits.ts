import { createRequire } from 'node:module';
import type * as GraphQLModule from 'graphql';

// Apollo's own graphql instance (the CommonJS build), as the rest of the gateway uses.
const { Lexer, Source } = createRequire(import.meta.url)('graphql') as typeof GraphQLModule;

/** Limits of graphql-armor, chosen for the registered operations (docs/security.md says why). */
export const ARMOR_LIMITS = {
  maxDepth: 6,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 1000,
  maxCost: 5000,
} as const;
/** Largest estimated cost (page sizes multiplied in) of one operation. */
export const MAX_OPERATION_COST = 50_000;

/**
 * graphql-armor's token limit runs inside Apollo's parsing hook, where a rejection becomes a 500;
 * the same limit is applied here, before Apollo, so an oversized document is a 400.
 */
export function tooManyTokens(query: unknown, max: number): boolean {
  if (typeof query !== 'string') return false;
  const lexer = new Lexer(new Source(query));
  try {
    for (let count = 0; lexer.advance().kind !== '<EOF>';) if (++count > max) return true;
  } catch {
    // A syntax error: Apollo's parser reports it.
  }
  return false;
}
