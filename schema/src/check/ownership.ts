import type {
  ConstDirectiveNode,
  FieldDefinitionNode,
  ObjectTypeDefinitionNode,
  ObjectTypeExtensionNode,
} from 'graphql';
import { graphql } from './graphql.ts';
import type { GovernanceRules } from './rules.ts';
import { locate, type ParsedSubgraph } from './subgraphs.ts';
import { formatLocation, taskResult, type Finding, type TaskResult } from './types.ts';

type ObjectNode = ObjectTypeDefinitionNode | ObjectTypeExtensionNode;

/** A subgraph's object types, definitions and extensions merged by name. */
export function objectTypes(subgraph: ParsedSubgraph): Map<string, ObjectNode[]> {
  const types = new Map<string, ObjectNode[]>();
  for (const def of subgraph.document.definitions) {
    if (def.kind === graphql.Kind.OBJECT_TYPE_DEFINITION || def.kind === graphql.Kind.OBJECT_TYPE_EXTENSION) {
      types.set(def.name.value, [...(types.get(def.name.value) ?? []), def]);
    }
  }
  return types;
}

/** Federation directives may be imported under their name or used as `@federation__name`. */
export function directive(
  node: { directives?: readonly ConstDirectiveNode[] | undefined },
  name: string,
): ConstDirectiveNode[] {
  return (node.directives ?? []).filter(
    (d) => d.name.value === name || d.name.value === `federation__${name}`,
  );
}

function stringArg(d: ConstDirectiveNode, name: string): string | undefined {
  const arg = d.arguments?.find((a) => a.name.value === name);
  return arg?.value.kind === graphql.Kind.STRING ? arg.value.value : undefined;
}

/** Top-level field names of the @key field sets of a type (`"id"`, `"id sku"`, `"id org { id }"`). */
export function keyFields(nodes: ObjectNode[]): Set<string> {
  const names = new Set<string>();
  for (const node of nodes) {
    for (const key of directive(node, 'key')) {
      const fields = stringArg(key, 'fields') ?? '';
      let depth = 0;
      for (const token of fields.match(/[{}]|[_A-Za-z][_0-9A-Za-z]*/g) ?? []) {
        if (token === '{') depth++;
        else if (token === '}') depth--;
        else if (depth === 0) names.add(token);
      }
    }
  }
  return names;
}

const ROOTS = new Set(['Query', 'Mutation', 'Subscription']);

/**
 * Ownership check, from schema/ownership.yaml: for every entity a subgraph declares, each field it
 * resolves must be its own (the owner's fields, or the fields the rules let it contribute); it must
 * not share (@shareable) or take over (@override) a field another subgraph owns; object types other
 * than entities and listed value types belong to one subgraph; and each mutation writes an entity
 * that the declaring subgraph owns.
 */
export function ownershipCheck(
  subgraphs: ParsedSubgraph[],
  rules: GovernanceRules,
  rulesPath: string,
): TaskResult {
  const findings: Finding[] = [];
  const fail = (
    code: string,
    description: string,
    subgraph?: ParsedSubgraph,
    node?: FieldDefinitionNode | ObjectNode,
    coordinate?: string,
  ): void => {
    const location = subgraph ? locate(subgraph, node) : undefined;
    findings.push({
      task: 'Ownership',
      severity: 'FAIL',
      code,
      description: location ? `${description} (at ${formatLocation(location)})` : description,
      ...(coordinate ? { coordinate } : {}),
      ...(subgraph ? { subgraph: subgraph.name } : {}),
      ...(location ? { location } : {}),
    });
  };
  const names = new Set(subgraphs.map((s) => s.name));
  const systemOf = (entity: string): string => {
    const rule = rules.entities[entity];
    return rule ? `${rule.owner}${rule.system ? ` (${rule.system})` : ''}` : '?';
  };

  for (const subgraph of names)
    if (!rules.systems[subgraph])
      fail(
        'OWNERSHIP_SYSTEM_MISSING',
        `${rulesPath}: systems has no entry for subgraph ${subgraph} (CRM, billing, ERP, …)`,
      );
  for (const [entity, rule] of Object.entries(rules.entities)) {
    const ownerSystem = rules.systems[rule.owner];
    if (rule.system && ownerSystem && rule.system !== ownerSystem)
      fail(
        'OWNERSHIP_SYSTEM_MISMATCH',
        `${rulesPath}: ${entity} says system ${rule.system}, but its owner ${rule.owner} is ${ownerSystem}`,
      );
    for (const subgraph of [rule.owner, ...Object.keys(rule.contributions)]) {
      if (!names.has(subgraph))
        fail(
          'OWNERSHIP_RULES_INVALID',
          `${rulesPath}: ${entity} names subgraph "${subgraph}", which rover.yaml does not list`,
        );
    }
  }
  for (const [mutation, entity] of Object.entries(rules.mutations)) {
    if (!rules.entities[entity])
      fail(
        'OWNERSHIP_RULES_INVALID',
        `${rulesPath}: mutation ${mutation} writes ${entity}, which is not listed under entities`,
      );
  }

  const declaredBy = new Map<string, string[]>();
  for (const subgraph of subgraphs) {
    for (const [typeName, nodes] of objectTypes(subgraph)) {
      if (ROOTS.has(typeName)) continue;
      declaredBy.set(typeName, [...(declaredBy.get(typeName) ?? []), subgraph.name]);
      const isEntity = nodes.some((n) => directive(n, 'key').length > 0);
      const rule = rules.entities[typeName];
      if (!rule) {
        if (isEntity)
          fail(
            'OWNERSHIP_UNKNOWN_ENTITY',
            `${subgraph.name} declares entity ${typeName}, which ${rulesPath} does not list: add it with its owning subgraph`,
            subgraph,
            nodes[0],
            typeName,
          );
        continue;
      }
      const keys = keyFields(nodes);
      const typeShareable = nodes.some((n) => directive(n, 'shareable').length > 0);
      const allowance = rule.contributions[subgraph.name] ?? [];
      for (const node of nodes) {
        for (const field of node.fields ?? []) {
          const name = field.name.value;
          const coordinate = `${typeName}.${name}`;
          if (keys.has(name) || directive(field, 'external').length > 0) continue;
          const contributor = Object.entries(rule.contributions).find(([, fields]) =>
            fields.includes(name),
          )?.[0];
          const fieldOwner = contributor ?? rule.owner;
          const shared = typeShareable || directive(field, 'shareable').length > 0;
          if (fieldOwner !== subgraph.name) {
            const whose =
              subgraph.name === rule.owner
                ? `${rulesPath} gives ${coordinate} to ${fieldOwner}`
                : `${typeName} belongs to ${systemOf(typeName)} and ${subgraph.name} may contribute only ${allowance.length ? allowance.join(', ') : 'nothing (key fields only)'}`;
            if (directive(field, 'override').length > 0)
              fail(
                'OWNERSHIP_OVERRIDE',
                `${subgraph.name} takes over ${coordinate} with @override: ${whose}`,
                subgraph,
                field,
                coordinate,
              );
            else if (shared)
              fail(
                'OWNERSHIP_SHARED_FIELD',
                `${subgraph.name} shares ${coordinate} (@shareable), which only ${fieldOwner} may resolve: ${whose}`,
                subgraph,
                field,
                coordinate,
              );
            else
              fail(
                'OWNERSHIP_FOREIGN_FIELD',
                `${subgraph.name} declares ${coordinate}: ${whose}`,
                subgraph,
                field,
                coordinate,
              );
          } else if (shared) {
            fail(
              'OWNERSHIP_SHARED_FIELD',
              `${subgraph.name} marks ${coordinate} @shareable, but a field has exactly one owning subgraph: only ${subgraph.name} may resolve it`,
              subgraph,
              field,
              coordinate,
            );
          }
        }
      }
    }

    for (const node of objectTypes(subgraph).get('Mutation') ?? []) {
      for (const field of node.fields ?? []) {
        const name = field.name.value;
        const entity = rules.mutations[name];
        const owner = entity ? rules.entities[entity]?.owner : undefined;
        if (!entity) {
          fail(
            'OWNERSHIP_UNMAPPED_MUTATION',
            `${subgraph.name} adds Mutation.${name}, which ${rulesPath} does not map to the entity it writes (mutations: { ${name}: <Entity> })`,
            subgraph,
            field,
            `Mutation.${name}`,
          );
        } else if (owner && owner !== subgraph.name) {
          fail(
            'OWNERSHIP_FOREIGN_MUTATION',
            `${subgraph.name} adds Mutation.${name}, which writes ${entity}, owned by ${systemOf(entity)}: writes go only to the system of record`,
            subgraph,
            field,
            `Mutation.${name}`,
          );
        }
      }
    }
  }

  for (const [typeName, by] of declaredBy) {
    if (by.length > 1 && !rules.entities[typeName] && !rules.valueTypes.includes(typeName))
      fail(
        'OWNERSHIP_DUPLICATE_TYPE',
        `${typeName} is declared by ${by.join(' and ')}: only entities and the value types listed in ${rulesPath} may appear in several subgraphs`,
        undefined,
        undefined,
        typeName,
      );
  }
  for (const [entity, rule] of Object.entries(rules.entities)) {
    if (names.has(rule.owner) && !declaredBy.get(entity)?.includes(rule.owner))
      findings.push({
        task: 'Ownership',
        severity: 'WARN',
        code: 'OWNERSHIP_RULE_UNUSED',
        description: `${rulesPath} says ${rule.owner} owns ${entity}, but ${rule.owner} does not declare it: update the rules`,
        coordinate: entity,
      });
  }

  const entities = Object.keys(rules.entities).length;
  return taskResult(
    'Ownership',
    `checked ${subgraphs.length} subgraphs against ${entities} entity owners and ${Object.keys(rules.mutations).length} mutation targets`,
    findings,
  );
}
