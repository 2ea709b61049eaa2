import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { CountryCodeResolver, CurrencyResolver, DateTimeResolver, LocalDateResolver } from 'graphql-scalars';
import { isValidIsoDate } from '../core/dates.ts';

const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/**
 * Decimal: an exact decimal number as a string ("10.00", "-483.83", "500"). Floats, exponents and
 * NaN are rejected at the edge; the currency's digit count is checked where the currency is known.
 */
export const DecimalScalar = new GraphQLScalarType({
  name: 'Decimal',
  description: 'An exact decimal number as a string, e.g. "10.00"; never a float.',
  serialize(value) {
    if (typeof value === 'string' && DECIMAL.test(value)) return value;
    throw new GraphQLError(`Decimal cannot represent ${JSON.stringify(value)}`);
  },
  parseValue(value) {
    if (typeof value === 'string' && DECIMAL.test(value)) return value;
    throw new GraphQLError(`Decimal must be a string like "10.00", got ${JSON.stringify(value)}`, {
      extensions: { code: 'INVALID_AMOUNT' },
    });
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING && DECIMAL.test(ast.value)) return ast.value;
    throw new GraphQLError('Decimal must be a string literal like "10.00"', {
      extensions: { code: 'INVALID_AMOUNT' },
    });
  },
});

/** Date: a calendar date YYYY-MM-DD, kept as that string (no time zone shifts). */
export const DateScalar = new GraphQLScalarType({
  ...LocalDateResolver.toConfig(),
  name: 'Date',
  description: 'A calendar date, YYYY-MM-DD.',
  serialize(value) {
    if (isValidIsoDate(value)) return value;
    throw new GraphQLError(`Date cannot represent ${JSON.stringify(value)}`);
  },
  parseValue(value) {
    if (isValidIsoDate(value)) return value;
    throw new GraphQLError(`Date must be a calendar date YYYY-MM-DD, got ${JSON.stringify(value)}`, {
      extensions: { code: 'INVALID_DATE' },
    });
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING && isValidIsoDate(ast.value)) return ast.value;
    throw new GraphQLError('Date must be a calendar date YYYY-MM-DD', {
      extensions: { code: 'INVALID_DATE' },
    });
  },
});

const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+)*$/;
const EMAIL_DOMAIN = /^(?=.{4,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** True for an address we accept: a dot-atom local part of ≤ 63 characters at a domain with a TLD, ≤ 254 in all. */
export function isEmailAddress(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 254) return false;
  const at = value.lastIndexOf('@');
  if (at < 1) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  return local.length <= 63 && EMAIL_LOCAL.test(local) && EMAIL_DOMAIN.test(domain);
}

/**
 * EmailAddress: stricter than RFC 5322's full grammar on purpose (OWASP input validation): no quoted
 * local parts, comments, backticks or control characters, and a domain with a top-level label.
 */
export const EmailAddressScalar = new GraphQLScalarType({
  name: 'EmailAddress',
  description: 'An email address such as ap@example.com.',
  serialize(value) {
    if (typeof value === 'string') return value;
    throw new GraphQLError(`EmailAddress cannot represent ${JSON.stringify(value)}`);
  },
  parseValue(value) {
    if (isEmailAddress(value)) return value;
    throw new GraphQLError('EmailAddress must be an address like ap@example.com (at most 254 characters)');
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING && isEmailAddress(ast.value)) return ast.value;
    throw new GraphQLError('EmailAddress must be an address like ap@example.com (at most 254 characters)');
  },
});

/** Resolvers for every custom scalar our subgraphs declare. */
export const scalarResolvers = {
  Decimal: DecimalScalar,
  Date: DateScalar,
  DateTime: DateTimeResolver,
  Currency: CurrencyResolver,
  CountryCode: CountryCodeResolver,
  EmailAddress: EmailAddressScalar,
};

/** The scalar resolvers for the custom scalars a subgraph's SDL declares. */
export function scalarResolversFor(typeDefs: string): Partial<typeof scalarResolvers> {
  const declared = new Set([...typeDefs.matchAll(/^\s*scalar\s+(\w+)/gm)].map((m) => m[1]));
  return Object.fromEntries(Object.entries(scalarResolvers).filter(([name]) => declared.has(name)));
}

/**
 * A subgraph's resolver map, checked against its generated `Resolvers` type (npm run codegen:
 * arguments, parents and results per field) and handed to the runtime, which takes any map.
 */
export function resolverMap<R extends object>(resolvers: R): GraphQLResolverMap<unknown> {
  return resolvers as unknown as GraphQLResolverMap<unknown>;
}
