import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from 'pino';
import type { AnyDb } from './db.ts';
import { DomainError } from './errors.ts';
import type { RequestContext } from './graphql-server.ts';

/**
 * The audit log: every mutation a subgraph executes — who (principal and role), what (operation,
 * root fields, variables with secrets redacted), the outcome, the correlation and request ids and
 * the time — appended to `audit_log` in the owning subgraph's own schema.
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

/** Appends one row per executed mutation; a failure to append is logged, never hidden. */
export function auditPlugin(db: AnyDb, schema: string, log: Logger): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ operation, request, response, contextValue }) {
          if (operation?.operation !== 'mutation' || response.body.kind !== 'single') return;
          const fields = operation.selectionSet.selections
            .filter((s) => s.kind === 'Field')
            .map((s) => s.name.value)
            .filter((name) => name !== '__typename');
          const { result, codes } = auditOutcome(
            response.body.singleResult.data as Record<string, unknown> | null | undefined,
            response.body.singleResult.errors,
          );
          try {
            await db
              .withSchema(schema)
              .insertInto('audit_log')
              .values({
                principal: contextValue.principal.sub,
                role: contextValue.principal.role,
                operation:
                  clientOperationName(request.operationName ?? operation.name?.value) ?? fields.join(','),
                fields: JSON.stringify(fields),
                variables: JSON.stringify(redactSecrets(request.variables ?? {})),
                result,
                codes: JSON.stringify(codes),
                correlation_id: contextValue.correlationId,
                request_id: contextValue.requestId,
              })
              .execute();
          } catch (error) {
            log.error({ err: error, requestId: contextValue.requestId, fields }, 'audit log append failed');
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
