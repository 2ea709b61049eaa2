import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  checkEventContracts,
  checkIngestContracts,
  diffEventContracts,
  eventContractsFromFiles,
  INGEST_DIR,
  ingestContractsFromFiles,
  readIngestContracts,
  generatedSection,
  normalizeTables,
  readEventContracts,
  renderEventTables,
  type EventContracts,
  type EventFinding,
} from '../events/contracts.ts';
import { taskResult, type Finding, type TaskResult } from './types.ts';

/** The contracts at a git revision, or undefined when that revision has none (or is not a revision). */
export function eventContractsAtRevision(root: string, rev: string, dir: string): EventContracts | undefined {
  const git = (args: string[]) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  let names: string[];
  try {
    names = git(['ls-tree', '--name-only', `${rev}:${dir}`])
      .split('\n')
      .filter(Boolean);
  } catch {
    return undefined;
  }
  if (!names.includes('catalog.json')) return undefined;
  const contracts = eventContractsFromFiles((name) => {
    try {
      return git(['show', `${rev}:${dir}/${name}`]);
    } catch {
      return undefined;
    }
  }, names);
  let ingestNames: string[] = [];
  try {
    ingestNames = git(['ls-tree', '--name-only', `${rev}:${dir}/${INGEST_DIR}`])
      .split('\n')
      .filter(Boolean);
  } catch {
    // No inbound contracts at that revision.
  }
  const ingest = ingestContractsFromFiles((name) => {
    try {
      return git(['show', `${rev}:${dir}/${INGEST_DIR}/${name}`]);
    } catch {
      return undefined;
    }
  }, ingestNames);
  return { ...contracts, ingest };
}

export interface EventCheckInput {
  root: string;
  /** Directory of the contracts, relative to root (schema/events). */
  dir: string;
  /** The generated doc (docs/events.md), relative to root. */
  doc: string;
  /** Subgraph names of rover.yaml. */
  subgraphs: readonly string[];
  /** The contracts to compare with, and what they are; undefined: no baseline (first publication). */
  baseline?: { label: string; contracts: EventContracts };
}

function finding(f: EventFinding): Finding {
  return { task: 'Event Contract', severity: f.severity, code: f.code, description: f.description };
}

/**
 * The Event Contract task: the catalog is consistent, every schema compiles and its examples
 * match, docs/events.md shows the catalog as it is, and nothing a consumer reads was removed,
 * renamed or widened since the baseline.
 */
export function eventContractCheck(input: EventCheckInput): TaskResult {
  let contracts: EventContracts;
  try {
    contracts = readEventContracts(resolve(input.root, input.dir));
  } catch (error) {
    return taskResult('Event Contract', `could not read ${input.dir}`, [
      finding({
        severity: 'FAIL',
        code: 'EVENT_CONTRACTS_UNREADABLE',
        description: `${input.dir}/${(error as Error).message}`,
      }),
    ]);
  }
  const findings = checkEventContracts(contracts, input.subgraphs).map(finding);
  let ingest: ReturnType<typeof readIngestContracts> = {};
  try {
    ingest = readIngestContracts(resolve(input.root, input.dir));
  } catch (error) {
    findings.push(
      finding({
        severity: 'FAIL',
        code: 'INGEST_CONTRACTS_UNREADABLE',
        description: `${input.dir}/${(error as Error).message}`,
      }),
    );
  }
  findings.push(...checkIngestContracts(ingest, input.baseline?.contracts.ingest).map(finding));
  const docPath = resolve(input.root, input.doc);
  const section = existsSync(docPath) ? generatedSection(readFileSync(docPath, 'utf8')) : undefined;
  if (section === undefined)
    findings.push(
      finding({
        severity: 'FAIL',
        code: 'EVENTS_DOC_STALE',
        description: `${input.doc} has no generated event catalog section; run npm run compose`,
      }),
    );
  else if (section !== normalizeTables(renderEventTables(contracts)))
    findings.push(
      finding({
        severity: 'FAIL',
        code: 'EVENTS_DOC_STALE',
        description: `${input.doc} does not show ${input.dir} as it is; run npm run compose`,
      }),
    );
  const types = Object.keys(contracts.catalog.events).length;
  let compared = 'no baseline to compare with';
  if (input.baseline) {
    const changes = diffEventContracts(input.baseline.contracts, contracts);
    findings.push(...changes.map(finding));
    compared = `${changes.length} change(s) against ${input.baseline.label}`;
  }
  return taskResult(
    'Event Contract',
    `checked ${types} event types and ${Object.keys(ingest).length} inbound contract(s); ${compared}`,
    findings,
  );
}
