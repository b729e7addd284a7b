/**
 * Figures computed from the audit log, as pure functions of entry headers: the collector computes
 * them from the stored log, and `evidence verify` recomputes them from the entries a package
 * carries — the same function, so an auditor checks every figure instead of trusting it. Only
 * header fields are read (time, actor, action, target, outcome, run), which retention never
 * erases, so a figure stays recomputable after the details it counted are gone.
 */

/** The header fields a figure may read. */
export interface FigureEntry {
  index: number;
  time: string;
  actor: { type: string; id: string };
  action: string;
  target: { type: string; id: string } | null;
  outcome: string;
  run?: string | null;
}

export interface FigureSpec {
  /** What is counted, for people: "tool calls by outcome". */
  name: string;
  /**
   * Which entries count: exact actions and/or a prefix (`tool.call.`), an outcome, a time window
   * [from, to), one actor or target (`type:id`, as `by` names them: `agent:agt_1`). Absent: any.
   */
  where: {
    actions?: string[];
    prefix?: string;
    outcome?: string;
    from?: string;
    to?: string;
    actor?: string;
    target?: string;
  };
  /** Counted per value of this header field, or in all when absent. */
  by?: 'action' | 'outcome' | 'actor' | 'target' | 'day';
}

export type FigureValue = number | Record<string, number>;

export function matches(spec: FigureSpec, e: FigureEntry): boolean {
  const w = spec.where;
  if (w.actions && !w.actions.includes(e.action)) return false;
  if (w.prefix && !e.action.startsWith(w.prefix)) return false;
  if (w.outcome && e.outcome !== w.outcome) return false;
  if (w.from && e.time < w.from) return false;
  if (w.to && e.time >= w.to) return false;
  if (w.actor && `${e.actor.type}:${e.actor.id}` !== w.actor) return false;
  if (w.target && (e.target ? `${e.target.type}:${e.target.id}` : '-') !== w.target) return false;
  return true;
}

function keyOf(by: NonNullable<FigureSpec['by']>, e: FigureEntry): string {
  if (by === 'action') return e.action;
  if (by === 'outcome') return e.outcome;
  if (by === 'actor') return `${e.actor.type}:${e.actor.id}`;
  if (by === 'target') return e.target ? `${e.target.type}:${e.target.id}` : '-';
  return e.time.slice(0, 10);
}

/**
 * The figure over these entries.
 *
 * @example
 *   computeFigure({ name: 'denials', where: { actions: ['tool.call.denied'] } }, entries); // → 3
 */
export function computeFigure(spec: FigureSpec, entries: Iterable<FigureEntry>): FigureValue {
  if (!spec.by) {
    let n = 0;
    for (const e of entries) if (matches(spec, e)) n++;
    return n;
  }
  const out: Record<string, number> = {};
  for (const e of entries) {
    if (!matches(spec, e)) continue;
    const k = keyOf(spec.by, e);
    out[k] = (out[k] ?? 0) + 1;
  }
  // Keys sorted: the same entries give the same canonical figure.
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
