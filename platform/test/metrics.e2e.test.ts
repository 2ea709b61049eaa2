import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { chainRoutes, silentLogger } from '../src/core/index.ts';
import { boundedOperationLabels, cachedRead, createMetrics } from '../src/observability/index.ts';
import { parsePrometheusText, valueOf } from '../../test/observability/prometheus-text.ts';

describe('createMetrics', () => {
  it('exposes process metrics and scraped gauges in valid text format, labelled with the service', async () => {
    const metrics = createMetrics({ service: 'billing-test', log: silentLogger() });
    metrics.scrapedGauge({
      name: 'c2c_test_gauge',
      help: 'A test gauge',
      labelNames: ['kind'],
      read: async () => [
        { labels: { kind: 'a' }, value: 2 },
        { labels: { kind: 'b' }, value: 0 },
      ],
    });
    const families = parsePrometheusText(await metrics.text());
    expect(families.has('process_cpu_seconds_total')).toBe(true);
    expect(valueOf(families, 'c2c_test_gauge', { kind: 'a', service: 'billing-test' })).toBe(2);
    expect(valueOf(families, 'c2c_test_gauge', { kind: 'b' })).toBe(0);
  });

  it('leaves a gauge without values and counts the failure when its reading fails or times out', async () => {
    const metrics = createMetrics({
      service: 's',
      log: silentLogger(),
      processMetrics: false,
      collectTimeoutMs: 20,
    });
    metrics.scrapedGauge({
      name: 'c2c_broken',
      help: 'x',
      labelNames: ['kind'],
      read: () => Promise.reject(new Error('down')),
    });
    metrics.scrapedGauge({ name: 'c2c_slow', help: 'x', read: () => new Promise(() => {}) });
    const families = parsePrometheusText(await metrics.text());
    expect(families.get('c2c_broken')?.samples).toEqual([]);
    // Without labels prom-client always writes a sample: unknown, not zero.
    expect(valueOf(families, 'c2c_slow')).toBeNaN();
    // Metrics are collected together: the failures of one scrape show in the counter of the next.
    const next = parsePrometheusText(await metrics.text());
    expect(valueOf(next, 'c2c_metrics_collect_failures_total', { metric: 'c2c_broken' })).toBe(1);
    expect(valueOf(next, 'c2c_metrics_collect_failures_total', { metric: 'c2c_slow' })).toBe(1);
  });

  it('serves GET /metrics (with a bearer token when configured) and counts the requests it sees', async () => {
    const metrics = createMetrics({
      service: 's',
      log: silentLogger(),
      processMetrics: false,
      token: 'a-metrics-token-of-some-length',
    });
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      void Promise.resolve(
        chainRoutes(metrics.routes, (_q, r, u) => {
          if (u.pathname !== '/other') return false;
          r.end('other');
          return true;
        })(req, res, url),
      ).then((handled) => {
        if (!handled) {
          res.statusCode = 404;
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      expect(
        (await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-same-len' } }))
          .status,
      ).toBe(401);
      expect(await (await fetch(`${base}/other`)).text()).toBe('other');
      const ok = await fetch(`${base}/metrics`, {
        headers: { authorization: 'Bearer a-metrics-token-of-some-length' },
      });
      expect(ok.status).toBe(200);
      const families = parsePrometheusText(await ok.text());
      expect(valueOf(families, 'c2c_http_requests_total', { route: '/metrics', status: '401' })).toBe(2);
      expect(valueOf(families, 'c2c_http_requests_total', { route: 'other', status: '200' })).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('cachedRead', () => {
  it('reads once per TTL, shares a pending read and does not keep a failure', async () => {
    let now = 0;
    let reads = 0;
    let fail = false;
    const read = cachedRead(
      async () => {
        reads += 1;
        if (fail) throw new Error('down');
        return reads;
      },
      5000,
      () => now,
    );
    expect(await Promise.all([read(), read()])).toEqual([1, 1]);
    now = 4999;
    expect(await read()).toBe(1);
    now = 5000;
    fail = true;
    await expect(read()).rejects.toThrow('down');
    fail = false;
    expect(await read()).toBe(3);
  });
});

describe('boundedOperationLabels', () => {
  it("labels well-formed names, strips the gateway's subgraph fetch suffix, and caps distinct names", () => {
    const label = boundedOperationLabels(2);
    expect(label('CustomerToCash')).toBe('CustomerToCash');
    expect(label('CustomerToCash__finance__2')).toBe('CustomerToCash');
    expect(label('bad name')).toBeNull();
    expect(label('Second')).toBe('Second');
    expect(label('Third')).toBeNull();
    expect(label('Second')).toBe('Second');
  });
});
