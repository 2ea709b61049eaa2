import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

// The shape of deploy/prometheus/alerts.yml and deploy/grafana/c2c-dashboard.json, without promtool
// or Grafana. That every metric they name is exposed is checked against live processes in
// metrics.e2e.test.ts.

const ROOT = join(import.meta.dirname, '..', '..');

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

describe('alert rules', () => {
  const rules = parseYaml(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as {
    groups: { name: string; rules: Rule[] }[];
  };
  const all = rules.groups.flatMap((g) => g.rules);

  it('each have an expression, a duration, a severity and a runbook', () => {
    expect(all.length).toBeGreaterThan(10);
    for (const rule of all) {
      expect(rule.alert, JSON.stringify(rule)).toMatch(/^C2C[A-Za-z0-9]+$/);
      expect(rule.expr?.trim().length, rule.alert).toBeGreaterThan(0);
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.runbook, rule.alert).toBeTruthy();
    }
    expect(new Set(all.map((r) => r.alert)).size).toBe(all.length);
  });

  it('cover consumer lag, outbox age, dead letters, breakers, errors, p99 latency and reconciliation', () => {
    const exprs = all.map((r) => r.expr ?? '').join('\n');
    for (const metric of [
      'c2c_consumer_lag_events',
      'c2c_outbox_oldest_age_seconds',
      'c2c_dead_letters',
      'c2c_subgraph_circuit_breaker_state',
      'c2c_graphql_errors_total',
      'c2c_graphql_request_duration_seconds_bucket',
      'c2c_reconciliation_differences',
    ])
      expect(exprs).toContain(metric);
    expect(exprs).toContain('histogram_quantile(0.99');
  });

  it('have balanced parentheses and braces', () => {
    for (const rule of all) {
      const expr = rule.expr ?? '';
      for (const [open, close] of [
        ['(', ')'],
        ['{', '}'],
        ['[', ']'],
      ] as const)
        expect(expr.split(open).length, `${rule.alert} ${open}`).toBe(expr.split(close).length);
    }
  });
});

describe('dashboard', () => {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/c2c-dashboard.json'), 'utf8')) as {
    uid: string;
    panels: { id: number; type: string; title: string; targets?: { expr: string; refId: string }[] }[];
    templating: { list: { name: string; type: string }[] };
  };

  it('has a technical and a business row, unique panel ids, and a query in every panel', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows.some((t) => t.startsWith('Technical'))).toBe(true);
    expect(rows.some((t) => t.startsWith('Business'))).toBe(true);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row'))
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource' }));
  });
});
