import { describe, expect, it } from 'vitest';
import { exposedNames, parsePrometheusText, valueOf } from './prometheus-text.ts';

// The test parser must be strict, or the e2e test proves nothing about /metrics.

const VALID = `# HELP c2c_requests_total Requests.
# TYPE c2c_requests_total counter
c2c_requests_total{operation="A",outcome="ok"} 3
c2c_requests_total{operation="B \\"quoted\\"",outcome="error"} 1 1700000000000
# HELP c2c_latency_seconds Latency.
# TYPE c2c_latency_seconds histogram
c2c_latency_seconds_bucket{le="0.1"} 1
c2c_latency_seconds_bucket{le="1"} 2
c2c_latency_seconds_bucket{le="+Inf"} 2
c2c_latency_seconds_sum 0.6
c2c_latency_seconds_count 2
# TYPE c2c_lag gauge
c2c_lag Nan
`;

describe('parsePrometheusText', () => {
  it('reads families, labels with escapes, histograms and special values', () => {
    const families = parsePrometheusText(VALID);
    expect(families.get('c2c_requests_total')?.type).toBe('counter');
    expect(valueOf(families, 'c2c_requests_total', { operation: 'B "quoted"' })).toBe(1);
    expect(families.get('c2c_latency_seconds')?.samples).toHaveLength(5);
    expect(valueOf(families, 'c2c_lag')).toBeNaN();
    expect(exposedNames(families)).toContain('c2c_latency_seconds_bucket');
  });

  it.each([
    ['no trailing newline', 'c2c_x 1'],
    ['a bad metric name', '2c2c_x 1\n'],
    ['a bad value', 'c2c_x one\n'],
    ['an unterminated label value', 'c2c_x{a="1} 1\n'],
    ['a bad escape', 'c2c_x{a="\\t"} 1\n'],
    ['a label twice', 'c2c_x{a="1",a="2"} 1\n'],
    ['no space before the value', 'c2c_x{a="1"}1\n'],
    ['a duplicate series', 'c2c_x{a="1"} 1\nc2c_x{a="1"} 2\n'],
    ['a split family', 'c2c_x 1\nc2c_y 1\nc2c_x{a="1"} 2\n'],
    ['two TYPE lines', '# TYPE c2c_x gauge\n# TYPE c2c_x gauge\nc2c_x 1\n'],
    ['an unknown type', '# TYPE c2c_x meter\nc2c_x 1\n'],
    ['a negative counter', '# TYPE c2c_x_total counter\nc2c_x_total -1\n'],
    [
      'a histogram without +Inf',
      '# TYPE c2c_h histogram\nc2c_h_bucket{le="1"} 1\nc2c_h_sum 1\nc2c_h_count 1\n',
    ],
    [
      'a histogram that is not cumulative',
      '# TYPE c2c_h histogram\nc2c_h_bucket{le="1"} 2\nc2c_h_bucket{le="+Inf"} 1\nc2c_h_sum 1\nc2c_h_count 1\n',
    ],
    [
      'a histogram whose count differs from +Inf',
      '# TYPE c2c_h histogram\nc2c_h_bucket{le="+Inf"} 2\nc2c_h_sum 1\nc2c_h_count 1\n',
    ],
    ['a reserved label name', 'c2c_x{__name__="y"} 1\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
