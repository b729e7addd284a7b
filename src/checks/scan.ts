/**
 * Checks applied: an agent's rules compiled once (and cached by their saved form), then text
 * scanned for what they match. A blocking match withholds the text; a redacting one is replaced
 * by `[REDACTED:<check>]`. What the caller learns is which checks fired, never the text matched.
 *
 * @example
 *   const set = checkSet({ rules: [{ name: 'cards', match: 'card_numbers', action: 'block', on: ['output'] }], … });
 *   set.output?.apply('card 4111 1111 1111 1111') // → { text: …, blocked: ['cards'], redacted: [] }
 */
import { customDetector, type Detector, detectors } from './detectors.ts';
import type { AgentChecks, CheckRule, Fired } from './rules.ts';

interface CompiledRule {
  name: string;
  action: 'block' | 'redact';
  detectors: Detector[];
}

export interface Finding {
  check: string;
  action: 'block' | 'redact';
  start: number;
  end: number;
}

export interface Applied {
  /** The text with redactions made (whole, even when a block fired: the caller withholds it). */
  text: string;
  /** The checks that fired, each once, blocks first. */
  fired: Fired[];
  blocked: boolean;
}

export const redaction = (check: string) => `[REDACTED:${check}]`;

/** A set of rules, for one place (an agent's answers, or one tool's arguments). */
export class Scanner {
  readonly #rules: CompiledRule[];
  constructor(rules: CompiledRule[]) {
    this.#rules = rules;
  }

  get blocks(): boolean {
    return this.#rules.some((r) => r.action === 'block');
  }

  /** Every match of every rule, by position. */
  scan(text: string): Finding[] {
    const out: Finding[] = [];
    for (const rule of this.#rules) {
      for (const d of rule.detectors) {
        d.re.lastIndex = 0;
        for (let m = d.re.exec(text); m !== null; m = d.re.exec(text)) {
          // An empty match would hold the scan in place (a saved pattern cannot, an old one might).
          if (m[0].length === 0) {
            d.re.lastIndex++;
            continue;
          }
          if (d.accept && !d.accept(m[0])) continue;
          out.push({ check: rule.name, action: rule.action, start: m.index, end: m.index + m[0].length });
        }
      }
    }
    return out.sort((a, b) => a.start - b.start || b.end - a.end);
  }

  apply(text: string): Applied {
    return applyFindings(text, this.scan(text));
  }
}

/** The text with its findings redacted (overlapping ones merged), and which checks fired. */
export function applyFindings(text: string, findings: Finding[]): Applied {
  let out = '';
  let at = 0;
  const fired = new Map<string, Fired['action']>();
  for (const f of findings) {
    if (fired.get(f.check) !== 'block') fired.set(f.check, f.action);
    if (f.end <= at) continue;
    out += text.slice(at, Math.max(at, f.start)) + redaction(f.check);
    at = f.end;
  }
  out += text.slice(at);
  const list = [...fired].map(([check, action]) => ({ check, action }));
  list.sort((a, b) => (a.action === b.action ? 0 : a.action === 'block' ? -1 : 1));
  return { text: out, fired: list, blocked: list.some((f) => f.action === 'block') };
}

function compile(rule: CheckRule): CompiledRule {
  return {
    name: rule.name,
    action: rule.action,
    detectors:
      rule.match === 'pattern' ? [customDetector(rule.pattern ?? '', rule.flags)] : detectors(rule.match),
  };
}

const matchesTool = (rule: CheckRule, connectionId: string, tool: string) =>
  !rule.tools || rule.tools.some((t) => t === tool || t === `${connectionId}/${tool}`);

/** An agent's checks, compiled: a scanner for its answers, and one per tool for its arguments. */
export class CheckSet {
  readonly settings: AgentChecks;
  /** The rules on the agent's answers; null when there are none. */
  readonly output: Scanner | null;
  readonly #rules: Array<{ rule: CheckRule; compiled: CompiledRule }>;
  readonly #byTool = new Map<string, Scanner | null>();

  constructor(settings: AgentChecks) {
    this.settings = settings;
    this.#rules = settings.rules.map((rule) => ({ rule, compiled: compile(rule) }));
    const out = this.#rules.filter((r) => r.rule.on.includes('output')).map((r) => r.compiled);
    this.output = out.length ? new Scanner(out) : null;
  }

  /** The rules on a tool's arguments; null when none apply to it. */
  toolArgs(connectionId: string, tool: string): Scanner | null {
    const key = `${connectionId}/${tool}`;
    if (!this.#byTool.has(key)) {
      if (this.#byTool.size > 1000) this.#byTool.clear();
      const rules = this.#rules
        .filter((r) => r.rule.on.includes('tool_args') && matchesTool(r.rule, connectionId, tool))
        .map((r) => r.compiled);
      this.#byTool.set(key, rules.length ? new Scanner(rules) : null);
    }
    return this.#byTool.get(key) ?? null;
  }
}

const cache = new Map<string, CheckSet>();

/** The compiled set for an agent's saved checks (JSON, as stored), or null for none. */
export function checkSetOf(saved: string | null): CheckSet | null {
  if (!saved) return null;
  let set = cache.get(saved);
  if (!set) {
    set = new CheckSet(JSON.parse(saved) as AgentChecks);
    if (cache.size >= 500) cache.clear();
    cache.set(saved, set);
  }
  return set;
}

/**
 * The strings and numbers of a JSON value with the scanner applied to each (tool arguments):
 * what fired, and the value with every match replaced (what the audit trail may keep).
 */
export function applyToValue(scanner: Scanner, value: unknown): { value: unknown; fired: Fired[] } {
  const fired = new Map<string, Fired['action']>();
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 32) return v;
    if (typeof v === 'string' || typeof v === 'number') {
      const text = String(v);
      const r = scanner.apply(text);
      for (const f of r.fired) if (fired.get(f.check) !== 'block') fired.set(f.check, f.action);
      return r.fired.length ? r.text : v;
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, depth + 1)]));
    return v;
  };
  const out = walk(value, 0);
  return { value: out, fired: [...fired].map(([check, action]) => ({ check, action })) };
}
