/**
 * Reading the PromQL of the Grafana dashboard and the alert rules in docs/monitoring as
 * Prometheus would (its own grammar, lezer-promql), for the tests that hold them to what Paddock
 * exports: which metrics an expression selects and with which label matchers, whether counters
 * are read through `rate`/`increase` and gauges are not, which labels `by (…)` groups on, and
 * which labels the result keeps (what an alert's `{{ $labels.x }}` can name). promtool is not at
 * hand; this checks what it would, and what it would not (a counter read raw, a label a metric
 * does not have, a value no series takes).
 */
import { parser } from '@prometheus-io/lezer-promql';

/** A node of the syntax tree (lezer's, which lezer-promql builds on). */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export interface Selector {
  metric: string;
  /** `label`, `op` (`=`, `!=`, `=~`, `!~`) and the value, as written. */
  matchers: Array<{ label: string; op: string; value: string }>;
  /** The range function it is read through (`rate`, `increase`, `deriv` …), if any. */
  rangeFunction: string | undefined;
}

export interface Expression {
  selectors: Selector[];
  /** Each `by (…)` aggregation: the labels it groups on, and the metrics beneath it. */
  groupings: Array<{ labels: string[]; metrics: string[] }>;
  /** The labels every series of the result has, as far as the expression tells (null: a scalar). */
  resultLabels: Set<string> | null;
}

/** The labels a metric's series carry: its own, plus what Prometheus adds when scraping. */
export type LabelsOf = (metric: string) => Set<string>;

/** Parses `expr`; throws naming the position when Prometheus's grammar does not accept it. */
export function readPromQL(expr: string, labelsOf: LabelsOf): Expression {
  const tree = parser.parse(expr);
  let error: number | undefined;
  tree.iterate({
    enter: (n) => {
      if (n.type.isError && error === undefined) error = n.from;
    },
  });
  if (error !== undefined) throw new Error(`not PromQL at ${error}: ${expr}`);
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to);
  const selectors: Selector[] = [];
  const groupings: Expression['groupings'] = [];

  const selectorOf = (vs: SyntaxNode): Selector => {
    const id = vs.getChild('Identifier');
    const matchers: Selector['matchers'] = [];
    let metric = id ? text(id) : '';
    const list = vs.getChild('LabelMatchers');
    for (let m = list?.firstChild ?? null; m; m = m.nextSibling) {
      if (m.name !== 'UnquotedLabelMatcher') continue;
      const label = text(m.getChild('LabelName')!);
      const op = text(m.getChild('MatchOp')!);
      const value = JSON.parse(text(m.getChild('StringLiteral')!)) as string;
      if (label === '__name__' && op === '=') metric = value;
      else matchers.push({ label, op, value });
    }
    let rangeFunction: string | undefined;
    const matrix = vs.parent?.name === 'MatrixSelector' ? vs.parent : null;
    if (matrix) {
      const call = matrix.parent?.parent;
      if (call?.name === 'FunctionCall') rangeFunction = text(call.getChild('FunctionIdentifier')!);
    }
    return { metric, matchers, rangeFunction };
  };

  const metricsUnder = (n: SyntaxNode): string[] => {
    const out: string[] = [];
    const c = n.cursor();
    const end = n.to;
    do {
      if (c.from >= end) break;
      if (c.name === 'VectorSelector') out.push(selectorOf(c.node).metric);
    } while (c.next());
    return out;
  };

  /** The labels the value of node `n` carries (null: a scalar or a string). */
  const labels = (n: SyntaxNode): Set<string> | null => {
    switch (n.name) {
      case 'PromQL':
      case 'ParenExpr':
      case 'FunctionCallBody':
      case 'MatrixSelector':
      case 'SubqueryExpr':
        return n.firstChild ? firstValue(n) : null;
      case 'NumberDurationLiteral':
      case 'StringLiteral':
        return null;
      case 'UnaryExpr':
        return labels(n.lastChild!);
      case 'VectorSelector':
        return new Set(labelsOf(selectorOf(n).metric));
      case 'FunctionCall': {
        const fn = text(n.getChild('FunctionIdentifier')!);
        const args = argsOf(n.getChild('FunctionCallBody')!);
        if (fn === 'time' || fn === 'scalar' || fn === 'pi') return null;
        if (fn === 'vector') return new Set();
        const vec = args.map(labels).find((l) => l !== null) ?? null;
        if (vec && fn === 'histogram_quantile') vec.delete('le');
        return vec;
      }
      case 'AggregateExpr': {
        const mod = n.getChild('AggregateModifier');
        const body = n.getChild('FunctionCallBody')!;
        const args = argsOf(body);
        const inner = labels(args[args.length - 1]!) ?? new Set<string>();
        if (!mod) return new Set();
        const grouped = mod.getChild('GroupingLabels');
        const names = grouped ? grouped.getChildren('LabelName').map(text) : [];
        if (mod.getChild('By')) {
          groupings.push({ labels: names, metrics: metricsUnder(body) });
          return new Set(names);
        }
        for (const x of names) inner.delete(x);
        return inner;
      }
      case 'BinaryExpr': {
        const [l, r] = [n.firstChild!, n.lastChild!];
        const [ll, rl] = [labels(l), labels(r)];
        return ll ?? rl;
      }
      default:
        return n.firstChild ? firstValue(n) : null;
    }
  };
  const argsOf = (body: SyntaxNode): SyntaxNode[] => {
    const out: SyntaxNode[] = [];
    for (let c = body.firstChild; c; c = c.nextSibling) if (!/^[(),]$/.test(text(c))) out.push(c);
    return out;
  };
  const firstValue = (n: SyntaxNode): Set<string> | null => {
    for (let c = n.firstChild; c; c = c.nextSibling) if (!/^[(),]$/.test(text(c))) return labels(c);
    return null;
  };

  const top = tree.topNode;
  const resultLabels = labels(top);
  const c = top.cursor();
  do {
    if (c.name === 'VectorSelector') selectors.push(selectorOf(c.node));
  } while (c.next());
  if (selectors.length === 0) throw new Error(`selects no metric: ${expr}`);
  return { selectors, groupings, resultLabels };
}
