import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { gatewayVariables } from '@c2c/gateway/config';
import { subgraphsOf } from '@c2c/schema/subgraphs';
import { SubgraphEnv } from '@c2c/platform/subgraph/env';
import { ENTRY_POINTS } from '@c2c/apps/entry-points';

// The Kubernetes manifests are checked offline (no cluster here): they parse, every workload has
// probes, requests, a Service and a PodDisruptionBudget that select it, and every setting they pass
// is one the processes read — a renamed variable fails here, not in production.

const DIR = join(import.meta.dirname, '..', '..', 'deploy', 'k8s');
type Doc = Record<string, any>;

function load(file: string): Doc[] {
  return parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    expect(d.errors, `${file} parses`).toEqual([]);
    return d.toJS() as Doc;
  });
}

const kustomization = load('kustomization.yaml')[0] as Doc;
const docs = (kustomization.resources as string[]).flatMap(load);
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const secretKeys = new Set(Object.keys((load('secret.example.yaml')[0] as Doc).stringData));
const configKeys = new Set(Object.keys((byKind('ConfigMap')[0] as Doc).data));
const subgraphVars = new Set(Object.keys(SubgraphEnv.shape));
const gatewayVars = gatewayVariables(subgraphsOf().map((s) => s.name));
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/k8s', () => {
  it('lists every manifest in the kustomization, and each exists', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    for (const resource of kustomization.resources as string[])
      expect(existsSync(join(DIR, resource))).toBe(true);
    expect([...(kustomization.resources as string[]), 'secret.example.yaml'].sort()).toEqual(files.sort());
  });

  it.each(byKind('Deployment').map((d) => [d.metadata.name as string, d]))(
    '%s: probes, resources, non-root, a Service and a PodDisruptionBudget, settings the process reads',
    (name, deployment) => {
      const pod = deployment.spec.template;
      const labels = pod.metadata.labels as Record<string, string>;
      expect(matches(deployment.spec.selector.matchLabels, labels)).toBe(true);
      expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
      expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
      for (const container of pod.spec.containers as Doc[]) {
        expect(container.readinessProbe?.httpGet?.path).toMatch(/^\/(readyz|healthz)$/);
        expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
        expect(container.resources.requests.cpu).toBeTruthy();
        expect(container.resources.requests.memory).toBeTruthy();
        expect(container.resources.limits.memory).toBeTruthy();
        const entry = /^dist\/(\w+)\.js$/.exec(container.args[1])?.[1];
        expect(Object.keys(ENTRY_POINTS)).toContain(entry);
        const reads = entry === 'gateway' ? gatewayVars : subgraphVars;
        for (const variable of container.env as Doc[]) {
          expect(reads.has(variable.name), `${name} sets ${variable.name}, which it does not read`).toBe(
            true,
          );
          const secretKey = variable.valueFrom?.secretKeyRef?.key;
          if (secretKey)
            expect(secretKeys.has(secretKey), `${secretKey} is in secret.example.yaml`).toBe(true);
        }
      }
      expect(byKind('Service').some((s) => matches(s.spec.selector, labels))).toBe(true);
      expect(
        byKind('PodDisruptionBudget').some(
          (p) => matches(p.spec.selector.matchLabels, labels) && p.spec.minAvailable >= 1,
        ),
      ).toBe(true);
    },
  );

  it('puts in the shared ConfigMap only settings some process reads', () => {
    for (const key of configKeys) {
      expect(
        gatewayVars.has(key) || subgraphVars.has(key),
        `${key} is read by the gateway or a subgraph`,
      ).toBe(true);
    }
  });

  it('runs the db setup job with the operator CLI and passwords from the secret', () => {
    const job = byKind('Job')[0] as Doc;
    const container = job.spec.template.spec.containers[0] as Doc;
    expect(container.args.slice(0, 4)).toEqual(['node', 'dist/c2c.js', 'db', 'setup']);
    for (const variable of container.env as Doc[])
      expect(secretKeys.has(variable.valueFrom.secretKeyRef.key)).toBe(true);
  });
});
