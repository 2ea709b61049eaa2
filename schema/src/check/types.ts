/** The tasks of a schema check, in the order they run and print. */
export const TASKS = [
  'Build',
  'Breaking Change',
  'Operation',
  'Ownership',
  'Linter',
  'Event Contract',
] as const;
export type TaskName = (typeof TASKS)[number];

/** FAIL fails the check; WARN is printed and passes; PASS is an accepted change, listed for review. */
export type Severity = 'FAIL' | 'WARN' | 'PASS';

/** A position in a subgraph schema or another file, 1-based. */
export interface Location {
  file: string;
  line: number;
  column: number;
}

/** One row of the check's `Change | Code | Description` table. */
export interface Finding {
  task: TaskName;
  severity: Severity;
  /** A Rover change code (`FIELD_REMOVED`) or a check's own code (`OWNERSHIP_FOREIGN_FIELD`). */
  code: string;
  description: string;
  /** Schema coordinate (`Invoice.issuedOn`), when the finding is about one. */
  coordinate?: string;
  subgraph?: string;
  location?: Location;
  /** Registered operations affected by this finding (operation names). */
  operations?: string[];
}

export interface TaskResult {
  task: TaskName;
  /** SKIPPED when an earlier task made it impossible to run (e.g. no supergraph after a failed build). */
  status: 'PASSED' | 'FAILED' | 'SKIPPED';
  /** A one-line account of what the task compared, e.g. "Compared 3 schema changes against 10 operations". */
  summary: string;
  findings: Finding[];
}

/** Turns a task's findings into its status: any FAIL fails it. */
export function taskResult(task: TaskName, summary: string, findings: Finding[]): TaskResult {
  return {
    task,
    status: findings.some((f) => f.severity === 'FAIL') ? 'FAILED' : 'PASSED',
    summary,
    findings,
  };
}

export function skipped(task: TaskName, why: string): TaskResult {
  return { task, status: 'SKIPPED', summary: why, findings: [] };
}

/** "file:line:column" for messages. */
export function formatLocation(location: Location | undefined): string {
  return location ? `${location.file}:${location.line}:${location.column}` : '';
}
