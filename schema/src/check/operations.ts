import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { DocumentNode, GraphQLNamedType, GraphQLSchema, TypeNode } from 'graphql';
import type { SchemaChange } from './breaking.ts';
import { graphql } from './graphql.ts';
import { taskResult, type Finding, type TaskResult } from './types.ts';

/** A registered client operation: one file of schema/operations/. */
export interface RegisteredOperation {
  /** File name, e.g. `portal.CustomerToCash.graphql`. */
  file: string;
  /** Full path of the file. */
  path: string;
  /** Operation name, e.g. `CustomerToCash` (the file name when the document has none). */
  name: string;
  document: DocumentNode;
  /** Why it is not served yet, when schema/operations.pending.json lists it. */
  pending?: string;
}

interface PendingFile {
  pending: { file: string; reason: string }[];
}

/** Reads schema/operations.pending.json: operation file → why it is not served yet. */
export function readPending(path: string): Map<string, string> {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as PendingFile;
  if (!Array.isArray(doc.pending)) throw new Error(`${path}: expected { "pending": [{ "file", "reason" }] }`);
  return new Map(doc.pending.map((p) => [p.file, p.reason]));
}

/** Loads every `*.graphql` of the operations directory, sorted by file name. */
export function loadOperations(dir: string, pending: Map<string, string>): RegisteredOperation[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((file) => {
      const document = graphql.parse(new graphql.Source(readFileSync(join(dir, file), 'utf8'), file));
      const op = document.definitions.find((d) => d.kind === graphql.Kind.OPERATION_DEFINITION);
      const name = op?.name?.value ?? file.replace(/\.graphql$/, '');
      const reason = pending.get(file);
      return {
        file,
        path: join(dir, file),
        name,
        document,
        ...(reason !== undefined ? { pending: reason } : {}),
      };
    });
}

/**
 * The schema coordinates an operation uses, resolved against a schema (the baseline, so that what a
 * change removed is still known): types (`Invoice`), fields (`Invoice.issuedOn`), arguments
 * (`Query.customers.first`) and input fields (`CreateCustomerInput.email`). Input types count as
 * used with all their fields, transitively: the operation passes them through variables and we
 * cannot tell which fields clients send.
 */
export function operationUsage(schema: GraphQLSchema, document: DocumentNode): Set<string> {
  const used = new Set<string>();
  const addType = (type: GraphQLNamedType | null | undefined): void => {
    if (!type || used.has(type.name)) return;
    used.add(type.name);
    if (graphql.isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        used.add(`${type.name}.${field.name}`);
        addType(graphql.getNamedType(field.type));
      }
    }
  };
  const typeInfo = new graphql.TypeInfo(schema);
  graphql.visit(
    document,
    graphql.visitWithTypeInfo(typeInfo, {
      OperationDefinition() {
        addType(graphql.getNamedType(typeInfo.getType()));
      },
      Field() {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (!parent || !field) return;
        addType(parent);
        used.add(`${parent.name}.${field.name}`);
        addType(graphql.getNamedType(field.type));
      },
      Argument() {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        const argument = typeInfo.getArgument();
        if (!parent || !field || !argument) return;
        used.add(`${parent.name}.${field.name}.${argument.name}`);
        addType(graphql.getNamedType(argument.type));
      },
      VariableDefinition(node) {
        const type = schema.getType(namedTypeName(node.type));
        addType(type);
      },
      InlineFragment() {
        addType(graphql.getNamedType(typeInfo.getType()));
      },
      FragmentDefinition() {
        addType(graphql.getNamedType(typeInfo.getType()));
      },
    }),
  );
  return used;
}

function namedTypeName(node: TypeNode): string {
  return node.kind === graphql.Kind.NAMED_TYPE ? node.name.value : namedTypeName(node.type);
}

/** Codes whose effect reaches every operation that selects or passes the changed field. */
const FIELD_LEVEL = new Set([
  'FIELD_REMOVED',
  'FIELD_CHANGED_TYPE',
  'REQUIRED_ARG_ADDED',
  'OPTIONAL_ARG_ADDED',
  'ARG_DEFAULT_VALUE_CHANGE',
]);
/** Codes that matter only to operations that pass the argument or input field. */
const MEMBER_LEVEL = new Set([
  'ARG_REMOVED',
  'ARG_CHANGED_TYPE',
  'FIELD_REMOVED_FROM_INPUT_OBJECT',
  'INPUT_FIELD_CHANGED_TYPE',
]);

/** The coordinate an operation must use for a change to affect it. */
export function usageKey(change: SchemaChange): string {
  const parts = change.path.split('.');
  if (FIELD_LEVEL.has(change.code) && parts.length >= 2) return parts.slice(0, 2).join('.');
  if (MEMBER_LEVEL.has(change.code)) return change.path;
  // Types, enum values, union members, interfaces, required input fields: whoever uses the type.
  return parts[0] ?? change.path;
}

/** For each change, the names of the registered operations that use what it changed. */
export function affectedOperations(
  baseline: GraphQLSchema,
  operations: RegisteredOperation[],
): (change: SchemaChange) => string[] {
  const usages = operations.map((op) => ({ op, used: operationUsage(baseline, op.document) }));
  return (change) => {
    const key = usageKey(change);
    return usages
      .filter((u) => u.used.has(key))
      .map((u) => (u.op.pending ? `${u.op.name} (pending)` : u.op.name));
  };
}

/**
 * Operation check: validates every registered operation against the new API schema. An operation that
 * no longer validates FAILS with the validation errors; one listed as pending must still be invalid,
 * and a warning asks to remove it from the pending list once it is served.
 */
export function operationCheck(
  apiSchema: GraphQLSchema,
  operations: RegisteredOperation[],
  pendingFile: string,
  root: string,
): TaskResult {
  const findings: Finding[] = [];
  const pendingPath = relative(root, pendingFile);
  for (const op of operations) {
    const errors = graphql.validate(apiSchema, op.document);
    const base = { task: 'Operation' as const, operations: [op.name] };
    const file = relative(root, op.path);
    if (op.pending !== undefined) {
      findings.push(
        errors.length > 0
          ? {
              ...base,
              severity: 'PASS',
              code: 'OPERATION_PENDING',
              description: `${op.name} (${file}) is not served yet, as ${pendingPath} expects: ${op.pending}`,
            }
          : {
              ...base,
              severity: 'WARN',
              code: 'OPERATION_NOW_SERVED',
              description: `${op.name} (${file}) is served now: remove it from ${pendingPath}`,
            },
      );
      continue;
    }
    for (const error of errors) {
      const loc = error.locations?.[0];
      findings.push({
        ...base,
        severity: 'FAIL',
        code: 'OPERATION_INVALID',
        description: `${op.name} (${file}${loc ? `:${loc.line}:${loc.column}` : ''}): ${error.message}`,
        ...(loc ? { location: { file, line: loc.line, column: loc.column } } : {}),
      });
    }
  }
  const served = operations.filter((o) => o.pending === undefined).length;
  return taskResult(
    'Operation',
    `validated ${operations.length} registered operations (${served} served, ${operations.length - served} pending)`,
    findings,
  );
}
