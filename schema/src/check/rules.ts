import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';

const Entity = z.object({
  owner: z.string().min(1),
  system: z.string().optional(),
  contributions: z.record(z.string(), z.array(z.string())).default({}),
});

const Rules = z.object({
  /** Subgraph → the system of record it fronts (CRM, billing, ERP, …). */
  systems: z.record(z.string(), z.string().min(1)).default({}),
  entities: z.record(z.string(), Entity),
  valueTypes: z.array(z.string()).default([]),
  mutations: z.record(z.string(), z.string()).default({}),
  lint: z
    .object({
      boundedLists: z.record(z.string(), z.string().min(10, 'say why the list is bounded')).default({}),
      argumentDescriptions: z.enum(['fail', 'warn']).default('fail'),
    })
    .default({ boundedLists: {}, argumentDescriptions: 'fail' }),
});

/** schema/ownership.yaml: entity owners, contributions, value types, mutation targets, lint allowlist. */
export type GovernanceRules = z.infer<typeof Rules>;

/** Reads and validates the rules file; throws with every problem and its path. */
export function readRules(path: string): GovernanceRules {
  return parseRules(readFileSync(path, 'utf8'), path);
}

export function parseRules(text: string, path = 'rules'): GovernanceRules {
  const parsed = Rules.safeParse(YAML.parse(text));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${path} is not valid: ${problems.join('; ')}`);
  }
  return parsed.data;
}
