/**
 * The Grafana dashboard and the alert rules in docs/monitoring name only metrics Paddock exports:
 * every PromQL expression is parsed with Prometheus's own grammar (lezer-promql), must parse
 * without error, and each metric it selects must be one a fresh registry exposes (a histogram's
 * `_bucket`, `_sum` and `_count` included). And every Paddock metric is on the dashboard.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { METRICS, Metrics } from './index.ts';

const doc = (name: string) => readFileSync(new URL(`../../docs/monitoring/${name}`, import.meta.url), 'utf8');

/** The metric names an expression selects; throws if Prometheus's grammar does not accept it. */
function selected(expr: string): string[] {
  const tree = parser.parse(expr);
  const names: string[] = [];
  let error: number | undefined;
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) error = n.from;
      if (n.name === 'Identifier' && n.node.parent?.name === 'VectorSelector')
        names.push(expr.slice(n.from, n.to));
      // `{__name__="…"}` selects by name too.
      if (n.name === 'UnquotedLabelMatcher' && expr.slice(n.from, n.to).startsWith('__name__'))
        names.push(expr.slice(n.from, n.to).replace(/^__name__\s*=\s*"(.*)"$/, '$1'));
    },
  });
  if (error !== undefined) throw new Error(`not PromQL at ${error}: ${expr}`);
  assert.ok(names.length > 0, `selects no metric: ${expr}`);
  return names;
}

async function exported(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await new Metrics().registry.getMetricsAsJSON()) {
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    else if (String(m.type) === 'summary') for (const s of ['', '_sum', '_count']) names.add(m.name + s);
    else names.add(m.name);
  }
  return names;
}

test('every alert rule parses as PromQL and names only metrics Paddock exports', async () => {
  const known = await exported();
  const rules = parseYaml(doc('paddock-alerts.yml')) as {
    groups: Array<{ name: string; rules: Array<Record<string, any>> }>;
  };
  const alerts = rules.groups.flatMap((g) => g.rules);
  assert.ok(alerts.length >= 4);
  for (const want of [
    'PaddockAuditQueueGrowing',
    'PaddockCheckpointStale',
    'PaddockCellRestartLoop',
    'PaddockHighErrorRatio',
  ])
    assert.ok(
      alerts.some((a) => a.alert === want),
      `${want} is there`,
    );
  for (const a of alerts) {
    assert.match(a.alert, /^Paddock[A-Z]\w+$/);
    assert.ok(['warning', 'critical'].includes(a.labels?.severity), `${a.alert} has a severity`);
    assert.ok(a.annotations?.summary, `${a.alert} has a summary`);
    for (const name of selected(a.expr))
      assert.ok(known.has(name), `${a.alert} names ${name}, which Paddock does not export`);
  }
});

test('every dashboard query parses as PromQL and names only metrics Paddock exports; every Paddock metric is shown', async () => {
  const known = await exported();
  const dash = JSON.parse(doc('grafana-dashboard.json'));
  const shown = new Set<string>();
  const panels = (dash.panels as any[]).filter((p) => p.type !== 'row');
  assert.ok(panels.length >= 20);
  for (const p of panels) {
    assert.ok(p.targets?.length, `${p.title} has queries`);
    for (const t of p.targets) {
      for (const name of selected(t.expr)) {
        assert.ok(known.has(name), `"${p.title}" names ${name}, which Paddock does not export`);
        shown.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
    }
  }
  for (const v of dash.templating.list.filter((x: any) => x.type === 'query')) {
    const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(v.definition);
    assert.ok(m && known.has(m[1]!), `variable ${v.name} reads a metric Paddock exports`);
  }
  for (const name of Object.values(METRICS)) assert.ok(shown.has(name), `${name} is on the dashboard`);
});
