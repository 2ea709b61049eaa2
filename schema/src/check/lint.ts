import type {
  ASTNode,
  ConstDirectiveNode,
  DefinitionNode,
  FieldDefinitionNode,
  GraphQLSchema,
  InputValueDefinitionNode,
  TypeNode,
} from 'graphql';
import { REMOVALS, wasDeprecated, type SchemaChange } from './breaking.ts';
import { graphql } from './graphql.ts';
import { directive, objectTypes } from './ownership.ts';
import type { GovernanceRules } from './rules.ts';
import { locate, type ParsedSubgraph } from './subgraphs.ts';
import { formatLocation, taskResult, type Finding, type Severity, type TaskResult } from './types.ts';

const PASCAL = /^[A-Z][A-Za-z0-9]*$/;
const CAMEL = /^[a-z][A-Za-z0-9]*$/;
const SCREAMING_SNAKE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;
/** Money words: a Float here is the worst case of the no-Float rule (money is exact decimals). */
const MONEY_LIKE = /amount|price|total|tax|balance|revenue|cost|fee|value|due|paid|credit|debit|money/i;

function namedType(node: TypeNode): string {
  return node.kind === graphql.Kind.NAMED_TYPE ? node.name.value : namedType(node.type);
}

function isList(node: TypeNode): boolean {
  if (node.kind === graphql.Kind.NON_NULL_TYPE) return isList(node.type);
  return node.kind === graphql.Kind.LIST_TYPE;
}

/** A schema element by coordinate (`Type`, `Type.field`, `Type.field.arg`, `Enum.VALUE`), with its description. */
export function elementAt(
  schema: GraphQLSchema,
  coordinate: string,
): { description: string | null | undefined } | undefined {
  const [typeName, member, argName] = coordinate.split('.');
  const type = typeName ? schema.getType(typeName) : undefined;
  if (!type || member === undefined) return type ?? undefined;
  if (graphql.isEnumType(type)) return type.getValue(member) ?? undefined;
  if (graphql.isObjectType(type) || graphql.isInterfaceType(type) || graphql.isInputObjectType(type)) {
    const field = type.getFields()[member];
    if (!field || argName === undefined) return field;
    return 'args' in field ? field.args.find((a) => a.name === argName) : undefined;
  }
  return undefined;
}

/** Types whose instances are records that keep accumulating: entities (@key) and objects with `id: ID!`. */
export function recordTypes(subgraphs: ParsedSubgraph[]): Set<string> {
  const records = new Set<string>();
  for (const subgraph of subgraphs) {
    for (const [name, nodes] of objectTypes(subgraph)) {
      const keyed = nodes.some((n) => directive(n, 'key').length > 0);
      const identified = nodes.some((n) =>
        (n.fields ?? []).some((f) => f.name.value === 'id' && graphql.print(f.type) === 'ID!'),
      );
      if (keyed || identified) records.add(name);
    }
  }
  return records;
}

/**
 * Linter check over each subgraph's SDL (so every finding has a subgraph and line):
 * descriptions on every type, field, argument, enum value and input field; names per the naming rules (types PascalCase, fields camelCase, enum values SCREAMING_SNAKE)
 * (types PascalCase, fields and arguments camelCase, enum values SCREAMING_SNAKE, inputs `XInput`,
 * mutations returning `XPayload` with `userErrors`); no `Float` (money is `Money`/`Decimal`);
 * lists of records are connections unless the rules file says why they are bounded; `@deprecated`
 * has a reason; every root field declares `@requiresScopes` or `@authenticated`; every field taking
 * `first` declares its page limit with `@listSize`; and, from the diff, removals of fields or values
 * that the baseline had not deprecated.
 */
export function lintCheck(
  subgraphs: ParsedSubgraph[],
  rules: GovernanceRules,
  rulesPath: string,
  diff?: { changes: SchemaChange[]; baseline: GraphQLSchema },
): TaskResult {
  const findings: Finding[] = [];
  const records = recordTypes(subgraphs);
  const usedAllowances = new Set<string>();

  // Pre-existing violations (the element is in the baseline, and for a missing description it had
  // none there either) warn instead of failing, as linters in schema checks judge the change, not the
  // history: a team fixes what it touches, and the warnings list the debt.
  const preExisting = (code: string, coordinate: string): boolean => {
    if (!diff) return false;
    const before = elementAt(diff.baseline, coordinate);
    return before !== undefined && (code !== 'DESCRIPTION_MISSING' || !before.description?.trim());
  };

  for (const subgraph of subgraphs) {
    const report = (
      severity: Severity,
      code: string,
      coordinate: string,
      message: string,
      node: ASTNode,
    ): void => {
      const location = locate(subgraph, node);
      const old = severity === 'FAIL' && preExisting(code, coordinate);
      findings.push({
        task: 'Linter',
        severity: old ? 'WARN' : severity,
        code,
        coordinate,
        subgraph: subgraph.name,
        description: `${subgraph.name}: ${coordinate} ${message}${location ? ` (at ${formatLocation(location)})` : ''}${old ? '; already so in the baseline' : ''}`,
        ...(location ? { location } : {}),
      });
    };
    const described = (
      coordinate: string,
      node: ASTNode & { description?: { value: string } | undefined },
      what: string,
    ): void => {
      if (node.description?.value.trim()) return;
      const severity = what === 'argument' && rules.lint.argumentDescriptions === 'warn' ? 'WARN' : 'FAIL';
      report(severity, 'DESCRIPTION_MISSING', coordinate, `has no description: document the ${what}`, node);
    };
    const deprecation = (
      coordinate: string,
      node: { directives?: readonly ConstDirectiveNode[] | undefined } & ASTNode,
    ): void => {
      for (const d of node.directives ?? []) {
        if (d.name.value !== 'deprecated') continue;
        const reason = d.arguments?.find((a) => a.name.value === 'reason')?.value;
        if (reason?.kind !== graphql.Kind.STRING || !reason.value.trim())
          report(
            'FAIL',
            'DEPRECATED_WITHOUT_REASON',
            coordinate,
            'is @deprecated without a reason: say what to use instead',
            d,
          );
      }
    };
    const noFloat = (coordinate: string, node: FieldDefinitionNode | InputValueDefinitionNode): void => {
      if (namedType(node.type) !== 'Float') return;
      const money = MONEY_LIKE.test(node.name.value);
      report(
        'FAIL',
        'FLOAT_FORBIDDEN',
        coordinate,
        money
          ? 'is money-like and typed Float: use Money (Decimal amount + currency)'
          : 'is typed Float: use Int, Decimal or a dedicated scalar (no binary floating point in this API)',
        node,
      );
    };
    const argument = (parent: string, arg: InputValueDefinitionNode): void => {
      const coordinate = `${parent}.${arg.name.value}`;
      described(coordinate, arg, 'argument');
      if (!CAMEL.test(arg.name.value))
        report('FAIL', 'NAMING_CONVENTION', coordinate, 'is not camelCase', arg);
      noFloat(coordinate, arg);
      deprecation(coordinate, arg);
    };
    const objectTypesOf = objectTypes(subgraph);

    for (const def of subgraph.document.definitions as readonly DefinitionNode[]) {
      if (!('name' in def) || !def.name) continue;
      const typeName = def.name.value;
      const isDefinition = !def.kind.endsWith('Extension');
      if (def.kind === graphql.Kind.DIRECTIVE_DEFINITION) continue;
      if (isDefinition && 'description' in def) described(typeName, def, 'type');
      if (!PASCAL.test(typeName)) report('FAIL', 'NAMING_CONVENTION', typeName, 'is not PascalCase', def);

      switch (def.kind) {
        case graphql.Kind.OBJECT_TYPE_DEFINITION:
        case graphql.Kind.OBJECT_TYPE_EXTENSION:
        case graphql.Kind.INTERFACE_TYPE_DEFINITION:
        case graphql.Kind.INTERFACE_TYPE_EXTENSION:
          for (const field of def.fields ?? []) {
            const coordinate = `${typeName}.${field.name.value}`;
            described(coordinate, field, 'field');
            if (!CAMEL.test(field.name.value))
              report('FAIL', 'NAMING_CONVENTION', coordinate, 'is not camelCase', field);
            noFloat(coordinate, field);
            deprecation(coordinate, field);
            for (const arg of field.arguments ?? []) argument(coordinate, arg);

            if (
              field.arguments?.some((a) => a.name.value === 'first') &&
              !field.directives?.some((d) => d.name.value === 'listSize')
            )
              report(
                'FAIL',
                'PAGE_LIMIT_MISSING',
                coordinate,
                'takes `first` but declares no page limit: add @listSize(slicingArguments: ["first"], assumedSize: <largest page>) (the gateway refuses larger pages from it)',
                field,
              );
            const itemType = namedType(field.type);
            if (isList(field.type) && records.has(itemType) && !typeName.endsWith('Connection')) {
              if (rules.lint.boundedLists[coordinate] !== undefined) usedAllowances.add(coordinate);
              else
                report(
                  'FAIL',
                  'UNBOUNDED_LIST',
                  coordinate,
                  `returns a plain list of ${itemType} records: return a ${itemType}Connection (first/after, totalCount, pageInfo, nodes), or list it under lint.boundedLists in ${rulesPath} with the reason it stays small`,
                  field,
                );
            }
            if (
              (typeName === 'Query' || typeName === 'Mutation') &&
              !field.directives?.some(
                (d) => d.name.value === 'requiresScopes' || d.name.value === 'authenticated',
              )
            )
              report(
                'FAIL',
                'AUTHORIZATION_MISSING',
                coordinate,
                'declares no @requiresScopes or @authenticated: every root field says who may call it (the gateway and the subgraph enforce it)',
                field,
              );
            if (typeName === 'Mutation') {
              const payload = namedType(field.type);
              const payloadFields = (objectTypesOf.get(payload) ?? []).flatMap((n) => n.fields ?? []);
              const userErrors = payloadFields.find((f) => f.name.value === 'userErrors');
              if (!payload.endsWith('Payload'))
                report(
                  'FAIL',
                  'MUTATION_PAYLOAD',
                  coordinate,
                  `returns ${payload}: mutations return an XPayload type`,
                  field,
                );
              else if (!userErrors || graphql.print(userErrors.type) !== '[UserError!]!')
                report(
                  'FAIL',
                  'MUTATION_PAYLOAD',
                  coordinate,
                  `returns ${payload}, which needs a userErrors: [UserError!]! field`,
                  field,
                );
            }
          }
          break;
        case graphql.Kind.INPUT_OBJECT_TYPE_DEFINITION:
        case graphql.Kind.INPUT_OBJECT_TYPE_EXTENSION:
          if (!typeName.endsWith('Input'))
            report('FAIL', 'NAMING_CONVENTION', typeName, 'is an input type: name it XInput', def);
          for (const field of def.fields ?? []) {
            const coordinate = `${typeName}.${field.name.value}`;
            described(coordinate, field, 'input field');
            if (!CAMEL.test(field.name.value))
              report('FAIL', 'NAMING_CONVENTION', coordinate, 'is not camelCase', field);
            noFloat(coordinate, field);
            deprecation(coordinate, field);
          }
          break;
        case graphql.Kind.ENUM_TYPE_DEFINITION:
        case graphql.Kind.ENUM_TYPE_EXTENSION:
          for (const value of def.values ?? []) {
            const coordinate = `${typeName}.${value.name.value}`;
            described(coordinate, value, 'enum value');
            if (!SCREAMING_SNAKE.test(value.name.value))
              report('FAIL', 'NAMING_CONVENTION', coordinate, 'is not SCREAMING_SNAKE_CASE', value);
            deprecation(coordinate, value);
          }
          break;
        case graphql.Kind.SCALAR_TYPE_DEFINITION:
        case graphql.Kind.SCALAR_TYPE_EXTENSION:
        case graphql.Kind.UNION_TYPE_DEFINITION:
        case graphql.Kind.UNION_TYPE_EXTENSION:
        case graphql.Kind.OPERATION_DEFINITION:
        case graphql.Kind.FRAGMENT_DEFINITION:
          // Described and named above; nothing inside to lint.
          break;
      }
    }
  }

  for (const coordinate of Object.keys(rules.lint.boundedLists)) {
    if (!usedAllowances.has(coordinate))
      findings.push({
        task: 'Linter',
        severity: 'WARN',
        code: 'BOUNDED_LIST_UNUSED',
        coordinate,
        description: `${rulesPath} allows ${coordinate} as a bounded list, but no subgraph declares such a list: remove the entry`,
      });
  }

  for (const change of diff?.changes ?? []) {
    if (REMOVALS.has(change.code) && !wasDeprecated(diff!.baseline, change.path))
      findings.push({
        task: 'Linter',
        severity: 'WARN',
        code: 'REMOVED_WITHOUT_DEPRECATION',
        coordinate: change.path,
        description: `${change.path} was removed without being @deprecated (with a reason) in the baseline first`,
      });
  }

  return taskResult('Linter', `linted ${subgraphs.length} subgraph schemas`, findings);
}
