/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), written from its
 * specification rather than taken from the exporter it checks: `# HELP` and `# TYPE` lines,
 * samples `name{label="value",…} value [timestamp]` with `\\`, `\"` and `\n` escapes, and
 * histograms whose buckets are cumulative and end with `+Inf` equal to `_count`. Anything else
 * throws, naming the line.
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

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SUFFIXES = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] } as const;

/** A value as Go's ParseFloat reads it (what Prometheus uses): `Inf` and `NaN` in any case. */
function number(text: string, line: string): number {
  const t = text.toLowerCase();
  if (t === '+inf' || t === 'inf') return Number.POSITIVE_INFINITY;
  if (t === '-inf') return Number.NEGATIVE_INFINITY;
  if (t === 'nan') return Number.NaN;
  const n = Number(text);
  if (text.trim() === '' || Number.isNaN(n)) throw new Error(`not a number in: ${line}`);
  return n;
}

function sample(line: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
  if (!m) throw new Error(`not a sample: ${line}`);
  const labels: Record<string, string> = {};
  const body = m[2]?.slice(1, -1) ?? '';
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    const key = body.slice(i, eq).trim();
    if (eq < 0 || !LABEL.test(key) || body[eq + 1] !== '"') throw new Error(`bad label in: ${line}`);
    let value = '';
    let j = eq + 2;
    for (; j < body.length && body[j] !== '"'; j++) {
      if (body[j] !== '\\') {
        value += body[j];
        continue;
      }
      const next = body[++j];
      if (next === 'n') value += '\n';
      else if (next === '\\' || next === '"') value += next;
      else throw new Error(`bad escape in: ${line}`);
    }
    if (j >= body.length) throw new Error(`unterminated label value in: ${line}`);
    if (key in labels) throw new Error(`label ${key} twice in: ${line}`);
    labels[key] = value;
    i = j + 1;
    if (body[i] === ',') i++;
    else if (i < body.length) throw new Error(`bad label list in: ${line}`);
  }
  return { name: m[1]!, labels, value: number(m[3]!, line) };
}

/** Every family of an exposition, its samples checked against its type. */
export function parsePrometheusText(text: string): Family[] {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, what, name, rest] = meta as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`bad metric name: ${line}`);
      const f = families.get(name) ?? { name, type: 'untyped' as const, help: '', samples: [] };
      families.set(name, f);
      if (what === 'HELP') f.help = rest;
      else if (['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
        f.type = rest as Family['type'];
      else throw new Error(`bad type: ${line}`);
      current = f;
      continue;
    }
    if (line.startsWith('#')) continue;
    const s = sample(line);
    const own =
      current &&
      (s.name === current.name ||
        ((current.type === 'histogram' || current.type === 'summary') &&
          SUFFIXES[current.type].some((x) => s.name === current!.name + x)));
    if (!own) throw new Error(`sample outside its family: ${line}`);
    current!.samples.push(s);
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return [...families.values()];
}

function checkHistogram(f: Family): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  const key = (l: Record<string, string>) =>
    JSON.stringify(
      Object.entries(l)
        .filter(([k]) => k !== 'le')
        .sort(),
    );
  for (const s of f.samples) {
    const one = series.get(key(s.labels)) ?? { buckets: [] };
    series.set(key(s.labels), one);
    if (s.name.endsWith('_bucket')) one.buckets.push([number(s.labels.le ?? '', f.name), s.value]);
    else if (s.name.endsWith('_count')) one.count = s.value;
  }
  for (const [labels, one] of series) {
    for (let i = 1; i < one.buckets.length; i++) {
      if (one.buckets[i]![0] <= one.buckets[i - 1]![0] || one.buckets[i]![1] < one.buckets[i - 1]![1])
        throw new Error(`${f.name}${labels}: buckets not cumulative`);
    }
    const inf = one.buckets.at(-1);
    if (!inf || inf[0] !== Number.POSITIVE_INFINITY || inf[1] !== one.count)
      throw new Error(`${f.name}${labels}: +Inf bucket missing or unequal to _count`);
  }
}

/**
 * The sum of a family's samples whose labels include `labels`: for a histogram, of its `_count`
 * samples (how many were observed).
 */
export function total(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const f = families.find((x) => x.name === name);
  if (!f) return 0;
  const wanted = f.type === 'histogram' || f.type === 'summary' ? `${name}_count` : name;
  return f.samples
    .filter((s) => s.name === wanted && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}
