import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSchemaCheck } from '../../src/check/index.ts';
import { formatJson, formatText } from '../../src/check/report.ts';
import { ROOT, currentBaseline, realSdl, removeField, tempDir } from './fixtures.ts';

/** The CLI as `npm run c2c -- schema check` runs it (node + tsx, without npm's own start-up). */
function c2c(...args: string[]) {
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'cli/c2c.ts', 'schema', 'check', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr, ms: Date.now() - started };
}

describe('schema check on this repository', () => {
  it('passes, with one line per task', async () => {
    const report = await runSchemaCheck({ root: ROOT });
    const failures = report.tasks.flatMap((t) => t.findings).filter((f) => f.severity === 'FAIL');
    expect(failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.tasks.map((t) => `${t.task} ${t.status}`)).toEqual([
      'Build PASSED',
      'Breaking Change PASSED',
      'Operation PASSED',
      'Ownership PASSED',
      'Linter PASSED',
      'Event Contract PASSED',
    ]);
    const text = formatText(report);
    expect(text).toMatch(/^Build Check \[PASSED\]/m);
    expect(text).toMatch(/^Linter Check \[PASSED\]/m);
    expect(text).toMatch(/^Schema check PASSED: 6 tasks passed/m);
    expect(JSON.parse(formatJson(report))).toMatchObject({ ok: true, tasks: expect.any(Array) });
  });

  it('`npm run schema:check` exits 0', () => {
    const run = spawnSync('npm', ['run', '-s', 'schema:check'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Build Check [PASSED]');
    expect(run.stdout).toMatch(/Change\s+\| Code\s+\| Description|No schema changes, no findings\./);
  }, 30_000);

  it('exits 1 naming the operation for a breaking proposal, and prints the change table', () => {
    const file = join(tempDir(), 'subscription.graphql');
    writeFileSync(file, removeField(realSdl('subscription'), 'Invoice', 'issuedOn'));
    const run = c2c('--subgraph', 'subscription', '--schema', file, '--base', currentBaseline());
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Breaking Change Check [FAILED]');
    expect(run.stdout).toMatch(/^Change\s+\| Code\s+\| Description$/m);
    expect(run.stdout).toMatch(/FAIL\s+\| FIELD_REMOVED\s+\| .*issuedOn.*breaks CustomerToCash/);
    expect(run.stdout).toMatch(/^Schema check FAILED: 2 of 6 tasks failed/m);
  }, 30_000);

  it('prints JSON with --json', () => {
    const run = c2c('--json', '--base', currentBaseline());
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, findings: expect.any(Array) });
  }, 30_000);

  it('exits 2 on usage errors and 0 on --help', () => {
    expect(c2c('--subgraph', 'finance').code).toBe(2);
    expect(c2c('--bogus').code).toBe(2);
    const badBase = c2c('--base', 'no-such-rev');
    expect(badBase.code).toBe(2);
    expect(badBase.stderr).toContain('neither a file nor a git revision');
    const help = c2c('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--subgraph NAME');
  }, 30_000);
});
