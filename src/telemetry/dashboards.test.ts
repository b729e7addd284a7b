/**
 * What Paddock exports follows Prometheus's conventions, and the Grafana dashboard and the
 * alert rules in docs/monitoring read it correctly. Every PromQL expression is parsed with
 * Prometheus's own grammar (lezer-promql; promtool is not at hand) and held to what a fresh
 * registry exposes: each metric it selects exists (a histogram's `_bucket`, `_sum`, `_count`
 * included), each label it matches or groups on is one that metric has, each value it matches
 * of a closed label is one the label takes, counters are read only through `rate`/`increase`
 * and gauges never are, and an alert's `{{ $labels.x }}` or a legend's `{{x}}` names a label
 * its result keeps. Every Paddock metric is on the dashboard. (`telemetry.test.ts` checks the
 * same names against a real scrape after a tour.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { type Expression, readPromQL } from '../testing/promql.ts';
import { LABEL_VALUES, METRICS, Metrics } from './index.ts';

const doc = (name: string) => readFileSync(new URL(`../../docs/monitoring/${name}`, import.meta.url), 'utf8');

/** Labels a metric may carry: anything else could be a person, an argument or a message. */
const ALLOWED_LABELS = new Set([
  'org',
  'method',
  'route',
  'status',
  'outcome',
  'state',
  'log',
  'provider',
  'model',
  'kind',
  'reason',
  'budget',
  'per',
  'name',
]);
/** Labels Prometheus sets itself when it scrapes (an exported one would be renamed `exported_…`). */
const TARGET_LABELS = ['instance', 'job'];
/** What a unit suffix may be: seconds, bytes, a ratio, US dollars, or a count (no unit). */
const UNIT = /_(seconds|bytes|ratio|usd)$/;
/** The dashboard's data source variable, as Grafana writes it. */
const GRAFANA_DATASOURCE = ['$', '{datasource}'].join('');
const RANGE_FOR_COUNTERS = new Set(['rate', 'increase', 'irate', 'resets']);

interface Exported {
  type: string;
  labels: Set<string>;
}

/** Every series name a fresh registry exposes, with its type and labels. */
function exported(): Map<string, Exported> {
  const out = new Map<string, Exported>();
  for (const m of new Metrics().registry.getMetricsAsArray() as unknown as Array<{
    name: string;
    type: string;
    labelNames: string[];
  }>) {
    const labels = new Set([...m.labelNames, ...TARGET_LABELS]);
    if (m.type === 'histogram') {
      out.set(`${m.name}_bucket`, { type: 'counter', labels: new Set([...labels, 'le']) });
      for (const s of ['_sum', '_count']) out.set(m.name + s, { type: 'counter', labels });
    } else if (m.type === 'summary') {
      out.set(m.name, { type: 'summary', labels: new Set([...labels, 'quantile']) });
      for (const s of ['_sum', '_count']) out.set(m.name + s, { type: 'counter', labels });
    } else out.set(m.name, { type: m.type, labels });
  }
  return out;
}

/** Checks one expression against what is exported; `where` names it in the failures. */
function check(expr: string, where: string, known: Map<string, Exported>): Expression {
  const e = readPromQL(expr, (metric) => known.get(metric)?.labels ?? new Set());
  for (const s of e.selectors) {
    const m = known.get(s.metric);
    assert.ok(m, `${where} names ${s.metric}, which Paddock does not export`);
    for (const { label, op, value } of s.matchers) {
      assert.ok(m.labels.has(label), `${where} matches ${s.metric} on ${label}, a label it does not have`);
      const closed = LABEL_VALUES[s.metric.replace(/_(bucket|sum|count)$/, '')]?.[label];
      if (!closed || value.includes('$') || op.startsWith('!')) continue;
      const values = op === '=~' ? value.split('|') : [value];
      for (const v of values)
        assert.ok(closed.includes(v), `${where} matches ${label}="${v}", a value ${s.metric} never has`);
    }
    if (m.type === 'counter')
      assert.ok(
        s.rangeFunction && RANGE_FOR_COUNTERS.has(s.rangeFunction),
        `${where} reads the counter ${s.metric} without rate() or increase()`,
      );
    else
      assert.ok(
        !s.rangeFunction || !RANGE_FOR_COUNTERS.has(s.rangeFunction),
        `${where} applies ${s.rangeFunction}() to the ${m.type} ${s.metric}`,
      );
  }
  for (const g of e.groupings)
    for (const label of g.labels)
      assert.ok(
        g.metrics.some((metric) => known.get(metric)?.labels.has(label)),
        `${where} groups by ${label}, which none of ${g.metrics.join(', ')} has`,
      );
  for (const s of e.selectors.filter((x) => x.metric.endsWith('_bucket')))
    assert.ok(
      e.groupings.some((g) => g.labels.includes('le') && g.metrics.includes(s.metric)),
      `${where} aggregates ${s.metric} without keeping le`,
    );
  return e;
}

/** The `{{ $labels.x }}` (alerts) or `{{x}}` (legends) a template names. */
const templated = (text: string, alert: boolean) =>
  [...text.matchAll(alert ? /\$labels\.(\w+)/g : /\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!);

test('every Paddock metric is named as Prometheus advises, with labels that carry no tenant data beyond org ids', async () => {
  const metrics = new Metrics().registry.getMetricsAsArray() as unknown as Array<{
    name: string;
    type: string;
    help: string;
    labelNames: string[];
  }>;
  const ours = metrics.filter((m) => m.name.startsWith('paddock_'));
  assert.deepEqual(new Set(ours.map((m) => m.name)), new Set(Object.values(METRICS)));
  for (const m of ours) {
    assert.match(m.name, /^paddock_[a-z][a-z0-9_]*[a-z0-9]$/, `${m.name}: snake_case`);
    assert.ok(m.help.length > 20, `${m.name} says what it is`);
    if (m.type === 'counter') assert.match(m.name, /_total$/, `${m.name}: a counter ends in _total`);
    else assert.doesNotMatch(m.name, /_total$/, `${m.name}: only counters end in _total`);
    assert.doesNotMatch(
      m.name,
      /_(ms|milliseconds|minutes|hours|kb|mb|percent)(_|$)/,
      `${m.name}: base units`,
    );
    if (/duration|age|latency/.test(m.name)) assert.match(m.name, /_seconds$/, `${m.name}: in seconds`);
    if (m.name.endsWith('_usd') || m.name.endsWith('_ratio') || m.name.endsWith('_bytes'))
      assert.match(m.name, UNIT);
    for (const l of m.labelNames) {
      assert.ok(
        ALLOWED_LABELS.has(l),
        `${m.name} has the label ${l}: labels carry no tenant data beyond org ids`,
      );
      assert.ok(!TARGET_LABELS.includes(l) && !l.startsWith('__'), `${m.name}: ${l} is Prometheus's own`);
    }
  }
  const closed = Object.entries(LABEL_VALUES);
  for (const [name, labels] of closed) {
    const m = ours.find((x) => x.name === name);
    assert.ok(m, `${name} is exported`);
    for (const l of Object.keys(labels)) assert.ok(m.labelNames.includes(l), `${name} has ${l}`);
  }
});

test('the checks above fail where they should (a counter read raw, a label or value that is not there, le dropped)', () => {
  const known = exported();
  for (const [bad, why] of [
    ['paddock_gate_calls_total > 5', /without rate/],
    ['rate(paddock_audit_queue_depth[5m])', /applies rate/],
    ['sum(rate(paddock_gate_calls_total{agent="x"}[5m]))', /label it does not have/],
    ['sum(rate(paddock_gate_calls_total{outcome="deny"}[5m]))', /never has/],
    ['sum by (person) (rate(paddock_gate_calls_total[5m]))', /groups by person/],
    [
      'histogram_quantile(0.9, sum by (route) (rate(paddock_http_request_duration_seconds_bucket[5m])))',
      /le/,
    ],
    ['paddock_no_such_thing', /does not export/],
    ['sum(rate(paddock_gate_calls_total[5m])', /not PromQL/],
    ['nosuchfunction(paddock_audit_queue_depth)', /not PromQL/],
  ] as const)
    assert.throws(() => check(bad, 'x', known), why, bad);
  const e = check('sum by (org) (rate(paddock_gate_calls_total[5m]))', 'x', known);
  assert.deepEqual(e.resultLabels, new Set(['org']));
});

test('every alert rule is a well-formed Prometheus rule that reads only what Paddock exports', () => {
  const known = exported();
  const file = parseYaml(doc('paddock-alerts.yml')) as {
    groups: Array<{ name: string; interval?: string; rules: Array<Record<string, any>> }>;
  };
  assert.deepEqual(Object.keys(file), ['groups']);
  const groupNames = file.groups.map((g) => g.name);
  assert.equal(new Set(groupNames).size, groupNames.length, 'group names are unique');
  const alerts = file.groups.flatMap((g) => {
    assert.deepEqual(
      Object.keys(g).filter((k) => !['name', 'interval', 'limit', 'rules'].includes(k)),
      [],
      g.name,
    );
    return g.rules;
  });
  for (const want of [
    'PaddockAuditQueueGrowing',
    'PaddockCheckpointStale',
    'PaddockCellRestartLoop',
    'PaddockHighErrorRatio',
    'PaddockJobStale',
    'PaddockBudgetNearlySpent',
  ])
    assert.ok(
      alerts.some((a) => a.alert === want),
      `${want} is there`,
    );
  const names = alerts.map((a) => a.alert);
  assert.equal(new Set(names).size, names.length, 'alert names are unique');
  for (const a of alerts) {
    const where = `alert ${a.alert}`;
    assert.deepEqual(
      Object.keys(a).filter(
        (k) => !['alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'].includes(k),
      ),
      [],
      `${where}: only the keys a Prometheus alerting rule has`,
    );
    assert.match(a.alert, /^Paddock[A-Z]\w+$/);
    assert.equal(typeof a.expr, 'string');
    if (a.for !== undefined) assert.match(a.for, /^(\d+[smhdwy])+$/, `${where}: a Prometheus duration`);
    assert.ok(['warning', 'critical'].includes(a.labels?.severity), `${where} has a severity`);
    for (const v of [...Object.values(a.labels ?? {}), ...Object.values(a.annotations ?? {})])
      assert.equal(typeof v, 'string', `${where}: labels and annotations are strings`);
    assert.ok(a.annotations?.summary, `${where} has a summary`);
    const e = check(a.expr, where, known);
    assert.ok(e.resultLabels !== null, `${where} yields a vector`);
    const text = Object.values(a.annotations as Record<string, string>).join(' ');
    for (const l of templated(text, true))
      assert.ok(e.resultLabels!.has(l), `${where} speaks of $labels.${l}, which its result does not keep`);
    // Balanced template braces: a typo there makes Prometheus refuse the whole file.
    assert.equal(text.split('{{').length, text.split('}}').length, `${where}: templates are closed`);
  }
});

test('every dashboard panel is placed and queried correctly, and every Paddock metric is shown', () => {
  const known = exported();
  const dash = JSON.parse(doc('grafana-dashboard.json'));
  const shown = new Set<string>();
  const ids = (dash.panels as any[]).map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  const taken = new Set<string>();
  for (const p of dash.panels as any[]) {
    const { x, y, w, h } = p.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0, `"${p.title}" fits the 24-column grid`);
    for (let i = x; i < x + w; i++)
      for (let j = y; j < y + h; j++) {
        assert.ok(!taken.has(`${i},${j}`), `"${p.title}" overlaps another panel`);
        taken.add(`${i},${j}`);
      }
  }
  const panels = (dash.panels as any[]).filter((p) => p.type !== 'row');
  assert.ok(panels.length >= 20);
  for (const p of panels) {
    assert.equal(p.datasource?.uid, GRAFANA_DATASOURCE, `"${p.title}" uses the chosen data source`);
    assert.ok(p.targets?.length, `"${p.title}" has queries`);
    const refs = p.targets.map((t: any) => t.refId);
    assert.equal(new Set(refs).size, refs.length, `"${p.title}": refIds are unique`);
    for (const t of p.targets) {
      const where = `"${p.title}" (${t.refId})`;
      const e = check(t.expr, where, known);
      for (const s of e.selectors) shown.add(s.metric.replace(/_(bucket|sum|count)$/, ''));
      for (const l of templated(t.legendFormat ?? '', false))
        assert.ok(e.resultLabels?.has(l), `${where}'s legend names ${l}, which its result does not keep`);
    }
  }
  for (const v of dash.templating.list.filter((x: any) => x.type === 'query')) {
    const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(v.definition);
    assert.ok(m && known.get(m[1]!)?.labels.has(m[2]!), `variable ${v.name} reads a label Paddock exports`);
  }
  for (const name of Object.values(METRICS)) assert.ok(shown.has(name), `${name} is on the dashboard`);
});
