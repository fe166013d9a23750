/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for
 * tests: it throws on any line a Prometheus server would reject or
 * misread: a bad metric or label name, a bad escape, a non-number value,
 * a sample before its family's TYPE or of another family, a TYPE given
 * twice, a duplicate series, or histogram buckets that are missing `le`,
 * not cumulative, or disagree with `_count`.
 *
 * (parse-prometheus-text-format, the registry's parser, is unmaintained
 * and merges a labelled histogram's series into one, losing their labels
 * and counts: it cannot check what this project exports.)
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const suffixes: Record<Family['type'], string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  const series = new Set<string>();
  let current: Family | undefined;
  text.split('\n').forEach((line, index) => {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const [, keyword, name, rest = ''] = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line) ?? [];
      if (!keyword) return; // a plain comment
      if (!metricName.test(name!)) fail('bad metric name');
      if (keyword === 'HELP') {
        helps.set(name!, rest.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)));
        return;
      }
      if (families.has(name!)) fail('second TYPE for one family');
      if (!(rest in suffixes)) fail('unknown type');
      current = { name: name!, type: rest as Family['type'], help: '', samples: [] };
      families.set(name!, current);
      return;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/.exec(line);
    if (!match) return fail('not a sample line');
    const [, name, labelText = '', valueText] = match;
    if (!current || !suffixes[current.type].some((suffix) => `${current!.name}${suffix}` === name)) {
      fail('sample outside its family (no TYPE line before it)');
    }
    const labels = parseLabels(labelText, fail);
    const value = parseValue(valueText!, fail);
    const id = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (series.has(id)) fail('duplicate series');
    series.add(id);
    current!.samples.push({ name: name!, labels, value });
  });
  for (const family of families.values()) {
    family.help = helps.get(family.name) ?? '';
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

function parseLabels(text: string, fail: (why: string) => never): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const match = /^([^=]*)="((?:[^"\\]|\\.)*)"(,?)/.exec(rest);
    if (!match) fail('malformed labels');
    const [whole, name, raw, comma] = match!;
    if (!labelName.test(name!)) fail(`bad label name ${JSON.stringify(name)}`);
    if (name! in labels) fail(`label ${name} given twice`);
    labels[name!] = raw!.replace(/\\(.)/g, (_, c: string) => {
      if (c === 'n') return '\n';
      if (c === '\\' || c === '"') return c;
      return fail(`bad escape \\${c}`);
    });
    rest = rest.slice(whole.length);
    if (!comma && rest.length > 0) fail('labels not separated by commas');
  }
  return labels;
}

function parseValue(text: string, fail: (why: string) => never): number {
  // Prometheus reads values with Go's ParseFloat: Inf, Infinity and NaN in any case (prom-client writes "Nan").
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail(`value ${JSON.stringify(text)} is not a number`);
  return Number(text);
}

/** Per series (labels without `le`): buckets cumulative, ending at +Inf, equal to `_count`. */
function checkHistogram(family: Family): void {
  const key = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort());
  const buckets = new Map<string, Array<{ le: number; value: number }>>();
  for (const sample of family.samples.filter((s) => s.name.endsWith('_bucket'))) {
    if (sample.labels.le === undefined) throw new Error(`${family.name}: a bucket without le`);
    const list = buckets.get(key(sample.labels)) ?? [];
    list.push({ le: Number(sample.labels.le === '+Inf' ? Infinity : sample.labels.le), value: sample.value });
    buckets.set(key(sample.labels), list);
  }
  for (const count of family.samples.filter((s) => s.name.endsWith('_count'))) {
    const list = (buckets.get(key(count.labels)) ?? []).sort((a, b) => a.le - b.le);
    if (list.at(-1)?.le !== Infinity) throw new Error(`${family.name}: no +Inf bucket for ${key(count.labels)}`);
    list.reduce((previous, bucket) => {
      if (bucket.value < previous) throw new Error(`${family.name}: buckets not cumulative for ${key(count.labels)}`);
      return bucket.value;
    }, 0);
    if (list.at(-1)!.value !== count.value) throw new Error(`${family.name}: +Inf bucket differs from _count for ${key(count.labels)}`);
  }
}

/** One sample's value by exact sample name and labels (a subset); 0 when that series is not exported yet. */
export function sampleValue(families: Map<string, Family>, family: string, sampleName: string, labels: Record<string, string> = {}): number {
  const found = families.get(family);
  if (!found) throw new Error(`no metric family ${family}`);
  const sample = found.samples.find((s) => s.name === sampleName && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return sample?.value ?? 0;
}
