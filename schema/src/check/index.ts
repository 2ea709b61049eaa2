import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { readRoverConfig } from '../compose.ts';
import { defaultBaseRev, loadBaseline } from './baseline.ts';
import { eventContractCheck, eventContractsAtRevision } from './events.ts';
import { readEventContracts, readIngestContracts } from '../events/contracts.ts';
import { breakingChangeCheck, diffApiSchemas } from './breaking.ts';
import { apiSchemaOf, buildCheck } from './build.ts';
import { lintCheck } from './lint.ts';
import { affectedOperations, loadOperations, operationCheck, readPending } from './operations.ts';
import { ownershipCheck } from './ownership.ts';
import { readRules } from './rules.ts';
import type { SubgraphSource } from './subgraphs.ts';
import { skipped, type TaskResult } from './types.ts';
import { UsageError } from './usage-error.ts';

export { UsageError } from './usage-error.ts';
export type { Finding, TaskResult, TaskName, Severity } from './types.ts';

/** Where the governance files live, relative to the repository root. */
export const PATHS = {
  config: 'rover.yaml',
  supergraph: 'schema/supergraph.graphql',
  operations: 'schema/operations',
  pending: 'schema/operations.pending.json',
  rules: 'schema/ownership.yaml',
  events: 'schema/events',
  eventsDoc: 'docs/events.md',
} as const;

export interface SchemaCheckOptions {
  /** Repository root; the other paths are relative to it. */
  root: string;
  /** Rover supergraph config (default rover.yaml). */
  config?: string;
  /** Baseline: a supergraph file, or a git revision of the committed one (default origin/main, else HEAD). */
  base?: string;
  /** Like `rover subgraph check`: replace (or add) one subgraph's schema with a proposed one. */
  proposed?: { subgraph: string; file: string } | { subgraph: string; sdl: string; label?: string };
  /** Other locations for the governance files (tests point these at fixtures). */
  paths?: Partial<Record<'supergraph' | 'operations' | 'pending' | 'rules' | 'events' | 'eventsDoc', string>>;
  /** Event contracts to compare with: a directory like schema/events (default: the baseline revision's). */
  eventsBase?: string;
}

export interface SchemaCheckReport {
  ok: boolean;
  /** What was checked, e.g. "the subgraphs of rover.yaml" or "the proposed schema for subgraph finance (…)". */
  subject: string;
  baseline: string;
  tasks: TaskResult[];
  /** Schema changes compared and operations checked, for the summary line. */
  changeCount: number;
  operationCount: number;
  durationMs: number;
}

function display(root: string, path: string): string {
  const rel = relative(root, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function readOrUsage(path: string, what: string): string {
  if (!existsSync(path)) throw new UsageError(`${what} not found: ${path}`);
  return readFileSync(path, 'utf8');
}

/**
 * Runs the schema check: Build, Breaking Change, Operation, Ownership, Linter and Event Contract tasks, in order.
 * Throws UsageError for bad options or missing files; check failures are in the report.
 */
export async function runSchemaCheck(options: SchemaCheckOptions): Promise<SchemaCheckReport> {
  const started = performance.now();
  const root = resolve(options.root);
  const paths = { ...PATHS, ...options.paths };
  const configPath = resolve(root, options.config ?? PATHS.config);
  if (!existsSync(configPath)) throw new UsageError(`Rover config not found: ${configPath}`);
  let config;
  try {
    config = readRoverConfig(configPath);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let subgraphs: SubgraphSource[] = config.subgraphs.map((s) => ({
    name: s.name,
    routingUrl: s.routingUrl,
    file: display(root, s.schemaFile),
    typeDefs: s.typeDefs,
  }));

  let subject = `the ${subgraphs.length} subgraphs of ${display(root, configPath)}`;
  const proposed = options.proposed;
  if (proposed) {
    const file = 'file' in proposed ? resolve(proposed.file) : undefined;
    const typeDefs = file ? readOrUsage(file, `--schema file`) : (proposed as { sdl: string }).sdl;
    const label = file
      ? display(root, file)
      : ((proposed as { label?: string }).label ?? `<${proposed.subgraph}>`);
    const existing = subgraphs.find((s) => s.name === proposed.subgraph);
    const replacement: SubgraphSource = {
      name: proposed.subgraph,
      routingUrl: existing?.routingUrl ?? `http://${proposed.subgraph}.invalid/graphql`,
      file: label,
      typeDefs,
      proposed: true,
    };
    subgraphs = existing
      ? subgraphs.map((s) => (s.name === proposed.subgraph ? replacement : s))
      : [...subgraphs, replacement];
    subject = `the proposed schema for ${existing ? 'subgraph' : 'new subgraph'} ${proposed.subgraph} (${label})`;
  }

  const supergraphPath = resolve(root, paths.supergraph);
  const apiPath = join(dirname(supergraphPath), 'api.graphql');
  const apiDisplay = join(dirname(paths.supergraph), 'api.graphql');
  const baseline = loadBaseline(root, paths.supergraph, options.base);
  const rulesPath = resolve(root, paths.rules);
  let rules;
  try {
    rules = readRules(rulesPath);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const pendingPath = resolve(root, paths.pending);
  const pending = existsSync(pendingPath) ? readPending(pendingPath) : new Map<string, string>();
  const operations = loadOperations(resolve(root, paths.operations), pending);

  const build = buildCheck({
    subgraphs,
    federationVersion: config.federationVersion,
    // A proposal is not composed into the committed file yet; a full check requires it to be current.
    committed: proposed ? null : { path: paths.supergraph, sdl: readOrUsage(supergraphPath, 'supergraph') },
    // schema/api.graphql, next to the supergraph, when there is one (npm run compose writes it).
    committedApi:
      proposed || !existsSync(apiPath) ? null : { path: apiDisplay, sdl: readFileSync(apiPath, 'utf8') },
  });
  const tasks: TaskResult[] = [build.result];
  let changeCount = 0;

  let baselineApi;
  try {
    baselineApi = apiSchemaOf(baseline.sdl);
  } catch (error) {
    throw new UsageError(`baseline ${baseline.label} is not a valid supergraph: ${(error as Error).message}`);
  }

  const changes = build.apiSchema ? await diffApiSchemas(baselineApi, build.apiSchema) : undefined;
  if (build.apiSchema && changes) {
    changeCount = changes.length;
    tasks.push(breakingChangeCheck(changes, affectedOperations(baselineApi, operations), operations.length));
    tasks.push(operationCheck(build.apiSchema, operations, pendingPath, root));
  } else {
    tasks.push(skipped('Breaking Change', 'skipped: nothing composed to compare'));
    tasks.push(skipped('Operation', 'skipped: nothing composed to validate against'));
  }

  const rulesLabel = paths.rules;
  if (build.subgraphs) {
    tasks.push(ownershipCheck(build.subgraphs, rules, rulesLabel));
    tasks.push(lintCheck(build.subgraphs, rules, rulesLabel, changes && { changes, baseline: baselineApi }));
  } else {
    tasks.push(skipped('Ownership', 'skipped: a subgraph schema does not parse'));
    tasks.push(skipped('Linter', 'skipped: a subgraph schema does not parse'));
  }

  tasks.push(
    eventContractCheck({
      root,
      dir: paths.events,
      doc: paths.eventsDoc,
      subgraphs: subgraphs.map((s) => s.name),
      baseline: eventBaseline(root, paths.events, options),
    }),
  );

  return {
    ok: tasks.every((t) => t.status !== 'FAILED'),
    subject,
    baseline: baseline.label,
    tasks,
    changeCount,
    operationCount: operations.length,
    durationMs: Math.round(performance.now() - started),
  };
}

/** The event contracts to compare with: --events-base DIR, else those of the baseline revision (none for a supergraph file). */
function eventBaseline(root: string, dir: string, options: SchemaCheckOptions) {
  if (options.eventsBase !== undefined) {
    try {
      return {
        label: options.eventsBase,
        contracts: {
          ...readEventContracts(resolve(root, options.eventsBase)),
          ingest: readIngestContracts(resolve(root, options.eventsBase)),
        },
      };
    } catch (error) {
      throw new UsageError(`--events-base ${options.eventsBase}: ${(error as Error).message}`);
    }
  }
  if (options.base !== undefined && existsSync(resolve(root, options.base))) return undefined;
  let rev: string;
  try {
    rev = options.base ?? defaultBaseRev(root);
  } catch {
    return undefined;
  }
  const contracts = eventContractsAtRevision(root, rev, dir);
  return contracts && { label: `${dir} at ${rev}`, contracts };
}
