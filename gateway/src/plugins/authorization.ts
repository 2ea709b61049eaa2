import { createRequire } from 'node:module';
import type { ApolloServerPlugin } from '@apollo/server';
import type * as GraphQLModule from 'graphql';
import type { AccessPolicy } from '@c2c/platform/auth';
import type { Logger } from '@c2c/platform/core';
import { countJsonValues, scalarResolvers } from '@c2c/platform/graphql';
import { wwwAuthenticate } from '../auth.ts';
import type { GatewayContext } from '../context.ts';
import { MAX_OPERATION_COST } from '../limits.ts';
import type { PageLimits } from '../page-limits.ts';
import { analyzeOperation, invalidVariables } from '../policy.ts';
import type { CostRateLimiter } from '../rate-limit.ts';

// Errors thrown to Apollo must be its own graphql instance's GraphQLError (the CommonJS build), or
// Apollo re-wraps them and drops their `path`.
const { GraphQLError } = createRequire(import.meta.url)('graphql') as typeof GraphQLModule;

/**
 * Before any query plan or subgraph fetch: authorization from the supergraph's directives (an
 * unauthorized field is never fetched: the whole operation is refused with FORBIDDEN and the
 * field's path), page and list sizes, an operation cost ceiling, and the principal's cost budget.
 */
export function authorizationPlugin(
  policy: AccessPolicy,
  pageLimits: PageLimits,
  limiter: CostRateLimiter,
  log: Logger,
): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          if (!operation) return;
          const declared = new Set(operation.variableDefinitions?.map((d) => d.variable.name.value));
          const undeclared = Object.keys(request.variables ?? {}).find((name) => !declared.has(name));
          if (undeclared !== undefined) {
            throw new GraphQLError(
              `variable $${undeclared.slice(0, 64)} is not declared by the operation: send only its variables`,
              { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } },
            );
          }
          const badValue = invalidVariables(schema, operation, request.variables ?? {}, scalarResolvers)[0];
          if (badValue) {
            throw new GraphQLError(badValue.message, {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
          const analysis = analyzeOperation(
            schema,
            policy,
            document,
            operation,
            request.variables ?? {},
            contextValue.principal,
            pageLimits,
          );
          const first = analysis.forbidden[0];
          if (first) {
            contextValue.log.warn(
              {
                principal: contextValue.principal.sub,
                role: contextValue.principal.role,
                operationName: request.operationName,
                forbidden: analysis.forbidden.map((f) => f.coordinate),
              },
              'operation refused: not authorized',
            );
            const scope = first.requires.split(' or ')[0]?.split(' and ').join(' ');
            const headers = new Map([
              [
                'www-authenticate',
                wwwAuthenticate({
                  kind: 'insufficient_scope',
                  message: first.message,
                  ...(scope && scope !== 'authentication' ? { scope } : {}),
                }),
              ],
            ]);
            throw new GraphQLError(first.message, {
              path: first.path,
              extensions: { code: 'FORBIDDEN', requires: first.requires, http: { status: 403, headers } },
            });
          }
          const invalid = analysis.invalid[0];
          if (invalid) {
            throw new GraphQLError(invalid.message, {
              ...(invalid.path.length ? { path: invalid.path } : {}),
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
          if (analysis.cost > MAX_OPERATION_COST) {
            throw new GraphQLError(
              `the query is too expensive: its estimated cost is ${analysis.cost} and the limit is ${MAX_OPERATION_COST} (page sizes multiplied out). Ask for less: a smaller first (page size), or fewer nested lists`,
              { extensions: { code: 'COST_LIMIT_EXCEEDED', http: { status: 400 } } },
            );
          }
          // The variables are work too (coercion, signing, forwarding): a cost point per 100 values.
          const variablesCost = Math.ceil(countJsonValues(request.variables ?? {}) / 100);
          const decision = limiter.take(contextValue.principal.sub, analysis.cost + variablesCost);
          if (!decision.ok) {
            log.warn(
              {
                principal: contextValue.principal.sub,
                cost: analysis.cost,
                retryAfter: decision.retryAfterSeconds,
              },
              'rate limited',
            );
            const headers = new Map([['retry-after', String(decision.retryAfterSeconds)]]);
            throw new GraphQLError('rate limit exceeded: too much query cost in too little time', {
              extensions: {
                code: 'RATE_LIMITED',
                retryAfterSeconds: decision.retryAfterSeconds,
                http: { status: 429, headers },
              },
            });
          }
        },
      };
    },
  };
}
