import { createRequire } from 'node:module';
import type * as GraphQLModule from 'graphql';

// Apollo's own graphql instance (the CommonJS build), as the rest of the gateway uses.
const { GraphQLError, Lexer, Source } = createRequire(import.meta.url)('graphql') as typeof GraphQLModule;

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

/**
 * The answer to a query over graphql-armor's cost limit: that it is too expensive, its cost, the
 * limit, and how to ask for less. Reads the numbers from armor's own message.
 */
export function tooExpensive(armorMessage: string): string {
  const numbers = /limit of (\d+) exceeded, found (\d+)/.exec(armorMessage);
  const measured = numbers ? `: its estimated cost is ${numbers[2]} and the limit is ${numbers[1]}` : '';
  return `the query is too expensive${measured}. Ask for less: a smaller first (page size, e.g. first: 20), fewer nested lists, or fewer fields`;
}

/** graphql-armor's cost refusal in our words (armor's own says "Syntax Error: Query Cost limit …"). */
export function costLimitError(armorMessage: string): GraphQLModule.GraphQLError {
  return new GraphQLError(tooExpensive(armorMessage));
}
