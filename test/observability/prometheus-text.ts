// A strict parser of the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), written for the tests: no parser
// is installed and promtool is not either. It throws on anything Prometheus would reject, and on a
// few things it tolerates but a well-behaved exporter never does (duplicate series, families split
// up, histograms whose buckets are not cumulative or lack +Inf, negative counters).

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * Prometheus reads values with Go's strconv.ParseFloat, which takes NaN, Inf and Infinity in any
 * case (prom-client writes `Nan`, e.g. for the event loop's mean before its first sample).
 */
function parseValue(text: string, line: number): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text))
    throw new Error(`line ${line}: bad value ${text}`);
  return Number(text);
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** Parses `name{labels} value [timestamp]`. */
function parseSample(text: string, line: number): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(text);
  if (!nameMatch) throw new Error(`line ${line}: no metric name in ${JSON.stringify(text)}`);
  const name = nameMatch[0];
  let rest = text.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    let i = 1;
    for (;;) {
      while (rest[i] === ' ') i++;
      if (rest[i] === '}') break;
      const labelMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(rest.slice(i));
      if (!labelMatch) throw new Error(`line ${line}: bad label name at ${JSON.stringify(rest.slice(i))}`);
      const label = labelMatch[0];
      i += label.length;
      if (rest[i] !== '=' || rest[i + 1] !== '"') throw new Error(`line ${line}: expected ="`);
      i += 2;
      let value = '';
      for (;;) {
        const c = rest[i];
        if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
        if (c === '"') break;
        if (c === '\\') {
          const next = rest[i + 1];
          if (next === '\\') value += '\\';
          else if (next === '"') value += '"';
          else if (next === 'n') value += '\n';
          else throw new Error(`line ${line}: bad escape \\${next ?? ''}`);
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      i++;
      if (label in labels) throw new Error(`line ${line}: label ${label} twice`);
      labels[label] = value;
      if (rest[i] === ',') i++;
      else if (rest[i] !== '}') throw new Error(`line ${line}: expected , or } after label ${label}`);
    }
    rest = rest.slice(i + 1);
  }
  if (!rest.startsWith(' ')) throw new Error(`line ${line}: expected a space before the value`);
  const parts = rest.trim().split(/ +/);
  if (parts.length < 1 || parts.length > 2) throw new Error(`line ${line}: expected value [timestamp]`);
  const sample: Sample = { name, labels, value: parseValue(parts[0]!, line) };
  if (parts[1] !== undefined) {
    if (!/^-?\d+$/.test(parts[1])) throw new Error(`line ${line}: bad timestamp ${parts[1]}`);
    sample.timestamp = Number(parts[1]);
  }
  return sample;
}

/** The family a sample belongs to, given the declared types. */
function familyOf(sampleName: string, types: Map<string, Family['type']>): string {
  for (const suffix of ['_bucket', '_count', '_sum']) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length);
      const type = types.get(base);
      if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
    }
  }
  return sampleName;
}

const seriesKey = (sample: Sample) =>
  `${sample.name}{${Object.entries(sample.labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: Sample[]; count?: number; sum?: boolean }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (sample.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      group.buckets.push(sample);
    } else if (sample.name === `${family.name}_count`) group.count = sample.value;
    else if (sample.name === `${family.name}_sum`) group.sum = true;
    else throw new Error(`${family.name}: unexpected sample ${sample.name} in a histogram`);
  }
  for (const group of groups.values()) {
    const buckets = group.buckets
      .map((b) => ({ le: parseValue(b.labels.le!, 0), value: b.value }))
      .sort((a, b) => a.le - b.le);
    if (buckets.at(-1)?.le !== Infinity) throw new Error(`${family.name}: no +Inf bucket`);
    for (let i = 1; i < buckets.length; i++)
      if (buckets[i]!.value < buckets[i - 1]!.value)
        throw new Error(`${family.name}: buckets not cumulative`);
    if (group.count === undefined || group.sum !== true)
      throw new Error(`${family.name}: _count or _sum missing`);
    if (group.count !== buckets.at(-1)!.value) throw new Error(`${family.name}: _count differs from +Inf`);
  }
}

/** Parses an exposition; throws with the line number on the first violation. */
export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const types = new Map<string, Family['type']>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: string | null = null;
  const enter = (name: string, line: number) => {
    if (current === name) return;
    if (current !== null) finished.add(current);
    if (finished.has(name)) throw new Error(`line ${line}: family ${name} is split up`);
    current = name;
  };
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (!match) return; // an ordinary comment
      const [, keyword, name, rest = ''] = match as unknown as [string, string, string, string?];
      if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      enter(name, line);
      const family = families.get(name) ?? { name, type: 'untyped' as const, samples: [] };
      families.set(name, family);
      if (keyword === 'HELP') {
        if (family.help !== undefined) throw new Error(`line ${line}: second HELP for ${name}`);
        family.help = unescapeHelp(rest);
      } else {
        if (!TYPES.has(rest)) throw new Error(`line ${line}: bad type ${rest}`);
        if (types.has(name)) throw new Error(`line ${line}: second TYPE for ${name}`);
        if (family.samples.length) throw new Error(`line ${line}: TYPE after samples of ${name}`);
        family.type = rest as Family['type'];
        types.set(name, family.type);
      }
      return;
    }
    const sample = parseSample(raw, line);
    for (const label of Object.keys(sample.labels))
      if (!LABEL_NAME.test(label) || label.startsWith('__'))
        throw new Error(`line ${line}: bad label ${label}`);
    const name = familyOf(sample.name, types);
    enter(name, line);
    const family = families.get(name) ?? { name, type: 'untyped' as const, samples: [] };
    families.set(name, family);
    const key = seriesKey(sample);
    if (series.has(key)) throw new Error(`line ${line}: duplicate series ${key}`);
    series.add(key);
    if (family.type === 'counter' && !(sample.value >= 0)) throw new Error(`line ${line}: negative counter`);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/** Every sample and family name of an exposition (what a PromQL expression may name). */
export function exposedNames(families: Map<string, Family>): Set<string> {
  const names = new Set<string>();
  for (const family of families.values()) {
    names.add(family.name);
    for (const sample of family.samples) names.add(sample.name);
    if (family.type === 'histogram')
      for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${family.name}${suffix}`);
  }
  return names;
}

/** The value of one series, or undefined. */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const family = families.get(name);
  return family?.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}
