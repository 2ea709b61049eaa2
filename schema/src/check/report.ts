import type { SchemaCheckReport } from './index.ts';
import { TASKS, type Finding, type Severity } from './types.ts';

const SEVERITY_ORDER: Record<Severity, number> = { FAIL: 0, WARN: 1, PASS: 2 };

/** Every finding, in task order and then FAIL, WARN, PASS. */
export function allFindings(report: SchemaCheckReport): Finding[] {
  return report.tasks
    .flatMap((t) => t.findings)
    .sort(
      (a, b) =>
        TASKS.indexOf(a.task) - TASKS.indexOf(b.task) ||
        SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity],
    );
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The one summary line, e.g. "Schema check FAILED: 2 of 5 tasks failed (3 failures, 1 warning) …". */
export function summaryLine(report: SchemaCheckReport): string {
  const findings = allFindings(report);
  const failures = findings.filter((f) => f.severity === 'FAIL').length;
  const warnings = findings.filter((f) => f.severity === 'WARN').length;
  const failed = report.tasks.filter((t) => t.status === 'FAILED').length;
  const tail = `compared ${count(report.changeCount, 'schema change')} against ${count(report.operationCount, 'operation')} in ${(report.durationMs / 1000).toFixed(1)}s`;
  return report.ok
    ? `Schema check PASSED: ${count(report.tasks.length, 'task')} passed (${count(warnings, 'warning')}); ${tail}.`
    : `Schema check FAILED: ${failed} of ${count(report.tasks.length, 'task')} failed (${count(failures, 'failure')}, ${count(warnings, 'warning')}); ${tail}.`;
}

/** A plain-text table with a header rule, like Rover's change table (ASCII, so CI logs keep it). */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join(' | ');
  return [
    line(rows[0]!),
    widths.map((w, i) => '-'.repeat(i === widths.length - 1 ? Math.min(w, 11) : w)).join('-|-'),
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** Rover-like text output: one line per task, the change table, the summary line. */
export function formatText(report: SchemaCheckReport): string {
  const out: string[] = [`Checking ${report.subject} against ${report.baseline}`, ''];
  for (const task of report.tasks) out.push(`${task.task} Check [${task.status}]: ${task.summary}`);
  const findings = allFindings(report);
  out.push('');
  if (findings.length === 0) {
    out.push('No schema changes, no findings.');
  } else {
    out.push(
      table([['Change', 'Code', 'Description'], ...findings.map((f) => [f.severity, f.code, f.description])]),
    );
  }
  out.push('', summaryLine(report));
  return out.join('\n');
}

/** Machine-readable output (`--json`). */
export function formatJson(report: SchemaCheckReport): string {
  return JSON.stringify(
    {
      ok: report.ok,
      subject: report.subject,
      baseline: report.baseline,
      summary: summaryLine(report),
      tasks: report.tasks.map((t) => ({ task: t.task, status: t.status, summary: t.summary })),
      findings: allFindings(report),
      changeCount: report.changeCount,
      operationCount: report.operationCount,
      durationMs: report.durationMs,
    },
    null,
    2,
  );
}
