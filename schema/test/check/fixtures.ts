import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeSupergraph, readRoverConfig } from '../../src/compose.ts';
import { runSchemaCheck, type SchemaCheckOptions, type SchemaCheckReport } from '../../src/check/index.ts';
import { parseRules, type GovernanceRules } from '../../src/check/rules.ts';
import { parseSubgraph, type ParsedSubgraph } from '../../src/check/subgraphs.ts';
import type { Finding } from '../../src/check/types.ts';

/** The repository root. Subgraph schemas are only ever read here: fixtures are copies in a temp dir. */
export const ROOT = join(import.meta.dirname, '..', '..', '..');

/** A fresh temp directory for one test's fixture files. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'c2c-schema-check-'));
}

/** The current SDL of a real subgraph (read-only). */
export function realSdl(subgraph: string): string {
  return readFileSync(join(ROOT, 'subgraphs', subgraph, 'schema.graphql'), 'utf8');
}

/** Replaces `pattern` in `sdl`, failing loudly when it does not occur (the real schema moved on). */
export function edit(sdl: string, pattern: RegExp | string, replacement: string): string {
  const next = sdl.replace(pattern, replacement);
  if (next === sdl) throw new Error(`fixture edit did not apply: ${String(pattern)} not found`);
  return next;
}

/** Removes a field (and its """ description) from the first type that declares it after `typeName`. */
export function removeField(sdl: string, typeName: string, field: string): string {
  const start = sdl.search(new RegExp(`\\btype ${typeName}\\b`));
  if (start < 0) throw new Error(`type ${typeName} not found`);
  const head = sdl.slice(0, start);
  const tail = edit(
    sdl.slice(start),
    new RegExp(`\\n(\\s*"""(?:(?!""")[\\s\\S])*"""\\n)?\\s*${field}(\\([^)]*\\))?: [^\\n]*`),
    '',
  );
  return head + tail;
}

/** Inserts SDL lines right after the opening brace of `type typeName … {`. */
export function addToType(sdl: string, typeName: string, lines: string): string {
  return edit(sdl, new RegExp(`(\\btype ${typeName}\\b[^{]*\\{\\n)`), `$1${lines}\n`);
}

let baselineFile: string | undefined;

/**
 * A baseline composed from the subgraph schemas as they are now, so that a fixture's diff shows only
 * the fixture's change (the real schemas may be mid-change in the working tree).
 */
export function currentBaseline(): string {
  if (!baselineFile) {
    const result = composeSupergraph(readRoverConfig(join(ROOT, 'rover.yaml')));
    if (result.errors) throw new Error(`the working tree does not compose: ${result.errors[0]?.message}`);
    baselineFile = join(tempDir(), 'baseline.graphql');
    writeFileSync(baselineFile, result.supergraphSdl);
  }
  return baselineFile;
}

/** Runs the full check with a proposed schema for one subgraph, written to a temp file like a user would. */
export async function checkProposal(
  subgraph: string,
  sdl: string,
  options: Partial<SchemaCheckOptions> = {},
): Promise<SchemaCheckReport> {
  const file = join(tempDir(), `${subgraph}.graphql`);
  writeFileSync(file, sdl);
  return runSchemaCheck({ root: ROOT, base: currentBaseline(), proposed: { subgraph, file }, ...options });
}

export function findings(report: SchemaCheckReport, severity?: Finding['severity']): Finding[] {
  return report.tasks.flatMap((t) => t.findings).filter((f) => !severity || f.severity === severity);
}

export function status(report: SchemaCheckReport): Record<string, string> {
  return Object.fromEntries(report.tasks.map((t) => [t.task, t.status]));
}

/** In-memory subgraphs for unit tests of one check. */
export function subgraphs(sdls: Record<string, string>): ParsedSubgraph[] {
  return Object.entries(sdls).map(([name, typeDefs]) =>
    parseSubgraph({ name, routingUrl: `http://${name}.test/graphql`, file: `${name}.graphql`, typeDefs }),
  );
}

export const FED =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@external", "@override", "@requiresScopes"])\n';

export function rules(yaml: string): GovernanceRules {
  return parseRules(yaml, 'test-rules.yaml');
}
