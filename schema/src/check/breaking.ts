import type { GraphQLSchema } from 'graphql';
import { graphql, inspector } from './graphql.ts';
import { taskResult, type Finding, type TaskResult } from './types.ts';

/** How a change can affect clients, as @graphql-inspector/core grades it. */
export type Criticality = 'BREAKING' | 'DANGEROUS' | 'NON_BREAKING';

/** One difference between the baseline and the new API schema. */
export interface SchemaChange {
  /** Rover's change code (Apollo GraphOS schema-check codes), e.g. `FIELD_REMOVED`. */
  code: string;
  criticality: Criticality;
  /** Schema coordinate: `Type`, `Type.field`, `Type.field.argument`, `Enum.VALUE`, `Input.field`. */
  path: string;
  message: string;
  /** The inspector's own change type, kept for the JSON output. */
  inspectorType: string;
}

/**
 * Inspector change types → Rover's codes. The inspector splits some of Rover's codes by criticality
 * (an added argument is REQUIRED_ARG_ADDED only when it is non-null without a default), handled below.
 */
const ROVER_CODES: Record<string, string> = {
  FIELD_REMOVED: 'FIELD_REMOVED',
  FIELD_ADDED: 'FIELD_ADDED',
  FIELD_TYPE_CHANGED: 'FIELD_CHANGED_TYPE',
  FIELD_ARGUMENT_REMOVED: 'ARG_REMOVED',
  FIELD_ARGUMENT_TYPE_CHANGED: 'ARG_CHANGED_TYPE',
  FIELD_ARGUMENT_DEFAULT_CHANGED: 'ARG_DEFAULT_VALUE_CHANGE',
  FIELD_ARGUMENT_DESCRIPTION_CHANGED: 'ARG_DESCRIPTION_CHANGE',
  FIELD_DESCRIPTION_CHANGED: 'FIELD_DESCRIPTION_CHANGE',
  FIELD_DESCRIPTION_ADDED: 'FIELD_DESCRIPTION_CHANGE',
  FIELD_DESCRIPTION_REMOVED: 'FIELD_DESCRIPTION_CHANGE',
  FIELD_DEPRECATION_ADDED: 'FIELD_DEPRECATED',
  FIELD_DEPRECATION_REMOVED: 'FIELD_DEPRECATION_REMOVED',
  FIELD_DEPRECATION_REASON_CHANGED: 'FIELD_DEPRECATED_REASON_CHANGE',
  FIELD_DEPRECATION_REASON_ADDED: 'FIELD_DEPRECATED_REASON_CHANGE',
  FIELD_DEPRECATION_REASON_REMOVED: 'FIELD_DEPRECATED_REASON_CHANGE',
  TYPE_REMOVED: 'TYPE_REMOVED',
  TYPE_ADDED: 'TYPE_ADDED',
  TYPE_KIND_CHANGED: 'TYPE_CHANGED_KIND',
  TYPE_DESCRIPTION_CHANGED: 'TYPE_DESCRIPTION_CHANGE',
  TYPE_DESCRIPTION_ADDED: 'TYPE_DESCRIPTION_CHANGE',
  TYPE_DESCRIPTION_REMOVED: 'TYPE_DESCRIPTION_CHANGE',
  ENUM_VALUE_REMOVED: 'VALUE_REMOVED_FROM_ENUM',
  ENUM_VALUE_ADDED: 'VALUE_ADDED_TO_ENUM',
  ENUM_VALUE_DESCRIPTION_CHANGED: 'ENUM_VALUE_DESCRIPTION_CHANGE',
  ENUM_VALUE_DEPRECATION_REASON_ADDED: 'ENUM_DEPRECATED',
  ENUM_VALUE_DEPRECATION_REASON_REMOVED: 'ENUM_DEPRECATION_REMOVED',
  ENUM_VALUE_DEPRECATION_REASON_CHANGED: 'ENUM_DEPRECATED_REASON_CHANGE',
  UNION_MEMBER_REMOVED: 'TYPE_REMOVED_FROM_UNION',
  UNION_MEMBER_ADDED: 'TYPE_ADDED_TO_UNION',
  INPUT_FIELD_REMOVED: 'FIELD_REMOVED_FROM_INPUT_OBJECT',
  INPUT_FIELD_TYPE_CHANGED: 'INPUT_FIELD_CHANGED_TYPE',
  INPUT_FIELD_DEFAULT_VALUE_CHANGED: 'ARG_DEFAULT_VALUE_CHANGE',
  INPUT_FIELD_DESCRIPTION_CHANGED: 'FIELD_DESCRIPTION_CHANGE',
  INPUT_FIELD_DESCRIPTION_ADDED: 'FIELD_DESCRIPTION_CHANGE',
  INPUT_FIELD_DESCRIPTION_REMOVED: 'FIELD_DESCRIPTION_CHANGE',
  OBJECT_TYPE_INTERFACE_ADDED: 'TYPE_ADDED_TO_INTERFACE',
  OBJECT_TYPE_INTERFACE_REMOVED: 'TYPE_REMOVED_FROM_INTERFACE',
};

function roverCode(type: string, criticality: Criticality): string {
  if (type === 'FIELD_ARGUMENT_ADDED')
    return criticality === 'BREAKING' ? 'REQUIRED_ARG_ADDED' : 'OPTIONAL_ARG_ADDED';
  if (type === 'INPUT_FIELD_ADDED')
    return criticality === 'BREAKING' ? 'NON_NULL_INPUT_FIELD_ADDED' : 'NULLABLE_FIELD_ADDED_TO_INPUT_OBJECT';
  return ROVER_CODES[type] ?? type;
}

/** Diffs two API schemas with @graphql-inspector/core and classifies each change with Rover's codes. */
export async function diffApiSchemas(
  baseline: GraphQLSchema,
  proposed: GraphQLSchema,
): Promise<SchemaChange[]> {
  const changes = await inspector.diff(baseline, proposed);
  return (
    changes
      // A deprecation also shows as a usage of the built-in @deprecated directive: keep the one
      // FIELD_DEPRECATED / ENUM_DEPRECATED row Rover prints.
      .filter(
        (c) => !(c.type.startsWith('DIRECTIVE_USAGE_') && /\.@(deprecated|specifiedBy)\b/.test(c.path ?? '')),
      )
      .map((c) => {
        const criticality = c.criticality.level as Criticality;
        return {
          code: roverCode(c.type, criticality),
          criticality,
          // Coordinates only: the inspector appends `.@deprecated` to deprecation paths.
          path: (c.path ?? '').replace(/\.@.*$/, ''),
          message: c.message,
          inspectorType: c.type,
        };
      })
  );
}

/** Which registered operations a change touches; see operations.ts. */
export type AffectedOperations = (change: SchemaChange) => string[];

/** Whether the removed element was marked @deprecated in the baseline (removal after deprecation). */
export function wasDeprecated(baseline: GraphQLSchema, path: string): boolean {
  const [typeName, member] = path.split('.');
  const type = typeName ? baseline.getType(typeName) : undefined;
  if (!type || !member) return false;
  if (graphql.isObjectType(type) || graphql.isInterfaceType(type) || graphql.isInputObjectType(type))
    return Boolean(type.getFields()[member]?.deprecationReason);
  if (graphql.isEnumType(type)) return Boolean(type.getValue(member)?.deprecationReason);
  return false;
}

/** Removals that the linter wants to see deprecated first. */
export const REMOVALS = new Set([
  'FIELD_REMOVED',
  'VALUE_REMOVED_FROM_ENUM',
  'FIELD_REMOVED_FROM_INPUT_OBJECT',
]);

function join(names: string[]): string {
  return names.join(', ');
}

/**
 * Breaking change check: a breaking change that a registered operation uses FAILS and names the
 * operations; one that nothing registered uses passes with a warning (clients we do not know of may
 * still break: the warning says so); dangerous changes (enum values and union members added, defaults
 * changed) warn; other changes are listed as PASS.
 */
export function breakingChangeCheck(
  changes: SchemaChange[],
  affected: AffectedOperations,
  operationCount: number,
): TaskResult {
  const findings: Finding[] = changes.map((change) => {
    const operations = affected(change);
    const base = { task: 'Breaking Change' as const, code: change.code, coordinate: change.path, operations };
    const description = change.message;
    switch (change.criticality) {
      case 'BREAKING':
        return operations.length > 0
          ? { ...base, severity: 'FAIL', description: `${description}; breaks ${join(operations)}` }
          : {
              ...base,
              severity: 'WARN',
              description: `${description}; no registered operation uses it (unregistered clients may still)`,
            };
      case 'DANGEROUS':
        return {
          ...base,
          severity: 'WARN',
          description: `${description}; dangerous${operations.length ? `: check ${join(operations)}` : ''}`,
        };
      case 'NON_BREAKING':
        return { ...base, severity: 'PASS', description };
    }
  });
  const breaking = changes.filter((c) => c.criticality === 'BREAKING').length;
  return taskResult(
    'Breaking Change',
    `compared ${changes.length} schema change(s) (${breaking} breaking) against ${operationCount} operations`,
    findings,
  );
}
