import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, Kind, parse, stripIgnoredCharacters, type OperationDefinitionNode } from 'graphql';
import type { Logger } from '@c2c/platform/core';

/** One operation of an Apollo persisted query manifest. */
export interface ManifestOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

/** The `apollo-persisted-query-manifest` format (version 1). */
export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: ManifestOperation[];
}

/** The canonical text of a document: comments and insignificant whitespace removed. */
export function normalizeDocument(body: string): string {
  return stripIgnoredCharacters(body);
}

export function operationId(body: string): string {
  return createHash('sha256').update(normalizeDocument(body)).digest('hex');
}

/** Compiles the registered operations (schema/operations/*.graphql, one operation each) into a manifest. */
export function buildManifest(directory: string): PersistedQueryManifest {
  const operations = readdirSync(directory)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => {
      const source = readFileSync(join(directory, file), 'utf8');
      const definitions = parse(source).definitions.filter(
        (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
      );
      const [operation] = definitions;
      if (definitions.length !== 1 || !operation?.name) {
        throw new Error(`${file}: a registered operation file holds exactly one named operation`);
      }
      const body = normalizeDocument(source);
      return { id: operationId(body), name: operation.name.value, type: operation.operation, body };
    });
  return { format: 'apollo-persisted-query-manifest', version: 1, operations };
}

/**
 * - `off`: any operation runs.
 * - `audit`: any operation runs; unknown ones are logged.
 * - `enforce`: only registered operations run.
 * - `enforce-mutations`: queries run freely, mutations only when registered (the production default).
 * - `id-only`: clients send only `extensions.persistedQuery.sha256Hash`; the body comes from the manifest.
 */
export type SafelistMode = 'off' | 'audit' | 'enforce' | 'enforce-mutations' | 'id-only';

/** An Apollo Server plugin that applies the safelist before execution. */
export function safelistPlugin<C extends BaseContext>(
  manifest: PersistedQueryManifest,
  mode: SafelistMode,
  log: Logger,
): ApolloServerPlugin<C> {
  const byId = new Map(manifest.operations.map((op) => [op.id, op]));
  return {
    async requestDidStart({ request }) {
      if (mode === 'off') return;
      const persisted = (request.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined)
        ?.sha256Hash;
      // Rejections happen in didResolveOperation: that is where Apollo turns a thrown GraphQLError
      // into a client error (thrown earlier it would be an internal error).
      let refusal: GraphQLError | null = null;
      if (mode === 'id-only') {
        const known = typeof persisted === 'string' ? byId.get(persisted) : undefined;
        if (!known || (request.query && normalizeDocument(request.query) !== known.body)) {
          refusal = new GraphQLError('only registered operations may be sent, by id', {
            extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } },
          });
          request.query = '{ __typename }';
        } else {
          request.query = known.body;
        }
      } else if (request.query === undefined && typeof persisted === 'string') {
        const known = byId.get(persisted);
        if (known) request.query = known.body;
      }
      // The manifest answered the id: keep Apollo's automatic persisted queries out of the way.
      if (typeof persisted === 'string' && request.query !== undefined && request.extensions) {
        delete request.extensions.persistedQuery;
      }
      return {
        async didResolveOperation({ operation, source }) {
          if (refusal) throw refusal;
          if (!operation || mode === 'id-only') return;
          const registered = byId.has(operationId(source));
          if (registered) return;
          const name = operation.name?.value ?? '(anonymous)';
          if (mode === 'audit') {
            log.warn(
              { operationName: name, operation: operation.operation },
              'unregistered operation (safelist audit)',
            );
            return;
          }
          if (mode === 'enforce' || operation.operation === 'mutation') {
            throw new GraphQLError(`operation ${name} is not registered in the safelist`, {
              extensions: { code: 'OPERATION_NOT_IN_SAFELIST', http: { status: 403 } },
            });
          }
        },
      };
    },
  };
}
