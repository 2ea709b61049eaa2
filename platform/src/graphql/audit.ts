import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from 'pino';
import { retryOnConnectionLoss } from '../core/connection-loss.ts';
import type { AnyDb } from '../db/db.ts';
import { DomainError } from '../core/errors.ts';
import type { RequestContext } from './request-context.ts';

/**
 * The audit log: every mutation a subgraph executes — who (principal and role), what (operation,
 * root fields, variables with secrets redacted), the outcome, the correlation and request ids and
 * the time — appended to `audit_log` in the owning subgraph's own schema, in the transaction of the
 * change it records.
 */

const SECRET_KEY = /secret|password|passphrase|token|authorization|api[-_]?key|credential|iban|card/i;

/** A copy of `value` with every property whose name looks like a secret replaced by "[REDACTED]". */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 16) return '[TRUNCATED]';
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        SECRET_KEY.test(key) ? '[REDACTED]' : redactSecrets(inner, depth + 1),
      ]),
    );
  }
  if (typeof value === 'string' && value.length > 2000) return `${value.slice(0, 2000)}…`;
  return value;
}

/** Lists longer than this are audited as their length and a digest, not item by item. */
export const AUDIT_LIST_ITEMS = 100;

/**
 * A copy of `value` in which every list longer than AUDIT_LIST_ITEMS is replaced by
 * `{ "[list]": <items>, "sha256": <hex of its JSON> }`: a call carrying 1,000 usage events is
 * audited as who sent how many events with which digest, not as a second copy of the events
 * (which are stored anyway); the digest proves what was sent against the client's copy.
 */
export function summarizeLongLists(value: unknown, depth = 0): unknown {
  if (depth > 16) return value;
  if (Array.isArray(value)) {
    if (value.length > AUDIT_LIST_ITEMS)
      return {
        '[list]': value.length,
        sha256: createHash('sha256').update(JSON.stringify(value)).digest('hex'),
      };
    return value.map((item) => summarizeLongLists(item, depth + 1));
  }
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, summarizeLongLists(inner, depth + 1)]),
    );
  return value;
}

/** The client's operation name: the gateway's query planner sends `Name__subgraph__N`. */
export function clientOperationName(name: string | null | undefined): string | null {
  if (!name) return null;
  return name.replace(/__[A-Za-z0-9_]+?__\d+$/, '') || null;
}

export type AuditResult = 'OK' | 'USER_ERROR' | 'ERROR';

/** The outcome of a mutation response: errors win, then any payload's userErrors. */
export function auditOutcome(
  data: Record<string, unknown> | null | undefined,
  errors: readonly { extensions?: Record<string, unknown> }[] | undefined,
): { result: AuditResult; codes: string[] } {
  if (errors?.length) {
    return {
      result: 'ERROR',
      codes: [...new Set(errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))],
    };
  }
  const codes = new Set<string>();
  for (const payload of Object.values(data ?? {})) {
    const userErrors = (payload as { userErrors?: { code?: string }[] } | null)?.userErrors;
    for (const error of userErrors ?? []) codes.add(String(error.code ?? 'USER_ERROR'));
  }
  return codes.size ? { result: 'USER_ERROR', codes: [...codes] } : { result: 'OK', codes: [] };
}

// NUL and unpaired UTF-16 surrogates: PostgreSQL text cannot hold the first, jsonb neither.
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Every string in `value` made storable in PostgreSQL text and jsonb: NUL and lone surrogates become U+FFFD. */
export function storable(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(UNSTORABLE, '\uFFFD');
  if (depth > 32) return '[TRUNCATED]';
  if (Array.isArray(value)) return value.map((item) => storable(item, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [storable(key) as string, storable(inner, depth + 1)]),
    );
  }
  return value;
}

/** The audit row of one mutation request, before its outcome is known. */
interface AuditDraft {
  schema: string;
  row: {
    principal: string;
    role: string | null;
    operation: string;
    fields: string;
    variables: string;
    correlation_id: string;
    request_id: string;
  };
  /** The row was committed with the mutation's own transaction. */
  written: boolean;
}

/**
 * One store per GraphQL request (graphql-server.ts runs Apollo inside it), so that the mutation's
 * transaction (runIdempotent) finds the request's audit row without every resolver passing it on.
 */
const requestScope = new AsyncLocalStorage<{ audit?: AuditDraft }>();

/** Runs a GraphQL request with its own audit scope. */
export function withAuditScope<T>(work: () => Promise<T>): Promise<T> {
  return requestScope.run({}, work);
}

/**
 * Where the current request's mutation commits in `schema`: `append(trx, value)` writes the audit
 * row in that transaction (so no change commits without it), `committed()` records that it did.
 * Null outside a mutation request, or once the row is written.
 */
export function pendingAudit(
  schema: string,
): { append(trx: AnyDb, value: unknown): Promise<void>; committed(): void } | null {
  const draft = requestScope.getStore()?.audit;
  if (!draft || draft.schema !== schema || draft.written) return null;
  return {
    append: async (trx, value) => {
      const userErrors = (value as { userErrors?: { code?: string }[] } | null)?.userErrors ?? [];
      const codes = [...new Set(userErrors.map((e) => String(e.code ?? 'USER_ERROR')))];
      await trx
        .withSchema(schema)
        .insertInto('audit_log')
        .values({
          ...draft.row,
          result: codes.length ? 'USER_ERROR' : 'OK',
          codes: JSON.stringify(codes),
        })
        .execute();
    },
    committed: () => (draft.written = true),
  };
}

/**
 * Audits every mutation a subgraph executes. A change commits together with its audit row (see
 * pendingAudit, written by runIdempotent in the mutation's transaction); a mutation that changed
 * nothing that way (refused, failed, replayed) gets its row here, after the answer, in a
 * transaction of its own whose content cannot fail: every string is made storable first.
 */
export function auditPlugin(db: AnyDb, schema: string, log: Logger): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      let draft: AuditDraft | undefined;
      return {
        async didResolveOperation({ operation, request, contextValue }) {
          if (operation?.operation !== 'mutation') return;
          const fields = operation.selectionSet.selections
            .filter((s) => s.kind === 'Field')
            .map((s) => s.name.value)
            .filter((name) => name !== '__typename');
          draft = {
            schema,
            written: false,
            row: {
              principal: storable(contextValue.principal.sub) as string,
              role: storable(contextValue.principal.role) as string | null,
              operation: storable(
                clientOperationName(request.operationName ?? operation.name?.value) ?? fields.join(','),
              ) as string,
              fields: JSON.stringify(fields),
              variables: JSON.stringify(storable(redactSecrets(summarizeLongLists(request.variables ?? {})))),
              correlation_id: contextValue.correlationId,
              request_id: contextValue.requestId,
            },
          };
          const scope = requestScope.getStore();
          if (scope) scope.audit = draft;
        },
        async willSendResponse({ response, contextValue }) {
          if (!draft || response.body.kind !== 'single') return;
          const { result, codes } = auditOutcome(
            response.body.singleResult.data as Record<string, unknown> | null | undefined,
            response.body.singleResult.errors,
          );
          // Written with the change; a later root field that failed still gets its own row.
          if (draft.written && result !== 'ERROR') return;
          const row = { ...draft.row, result, codes: JSON.stringify(storable(codes)) };
          try {
            await retryOnConnectionLoss(() =>
              db
                .transaction()
                .execute((trx) => trx.withSchema(schema).insertInto('audit_log').values(row).execute()),
            );
          } catch (error) {
            log.error(
              { err: error, requestId: contextValue.requestId, operation: row.operation },
              'audit log append failed',
            );
          }
        },
      };
    },
  };
}

export interface AuditEntry {
  id: string;
  at: Date;
  principal: string;
  role: string | null;
  operation: string;
  fields: string[];
  variables: string;
  result: AuditResult;
  codes: string[];
  correlationId: string;
  requestId: string;
}

const NUMERIC_ID = /^[1-9][0-9]{0,17}$/;

/** Resolver for a subgraph's audit-log query field: newest first, `first` 1–100, `before` an entry id. */
export function auditLogResolver(db: AnyDb, schema: string) {
  return async (
    _: unknown,
    args: { first?: number | null; before?: string | null; principal?: string | null },
  ): Promise<AuditEntry[]> => {
    const first = args.first ?? 50;
    if (!Number.isInteger(first) || first < 1 || first > 100)
      throw new DomainError('INVALID_PAGE_SIZE', `first must be between 1 and 100, got ${first}`, 'first');
    if (args.before != null && !NUMERIC_ID.test(args.before))
      throw new DomainError('INVALID_CURSOR', 'before must be an audit entry id', 'before');
    let query = db.withSchema(schema).selectFrom('audit_log').selectAll();
    if (args.before != null) query = query.where('id', '<', args.before);
    if (args.principal != null) query = query.where('principal', '=', args.principal);
    const rows = (await query.orderBy('id', 'desc').limit(first).execute()) as Record<string, unknown>[];
    return rows.map((row) => ({
      id: String(row.id),
      at: row.at as Date,
      principal: row.principal as string,
      role: (row.role as string | null) ?? null,
      operation: row.operation as string,
      fields: jsonArray(row.fields),
      variables: typeof row.variables === 'string' ? row.variables : JSON.stringify(row.variables),
      result: row.result as AuditResult,
      codes: jsonArray(row.codes),
      correlationId: row.correlation_id as string,
      requestId: row.request_id as string,
    }));
  };
}

function jsonArray(value: unknown): string[] {
  const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  return Array.isArray(parsed) ? parsed.map(String) : [];
}
