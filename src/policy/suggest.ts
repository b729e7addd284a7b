/**
 * Grants suggested from what an agent did: from a list of observed calls, the narrowest grants
 * that allow every one of them, in the grant language (grants.ts) so that a person can save each
 * through the ordinary grants API. Only the tools used; for each distinct set of arguments a call
 * gave, one grant that requires the others left out; exact values (or sets) for identifying
 * arguments, a prefix only for many paths or URLs under one folder, bounds for numbers, each list
 * element within the values seen; prose is left open but kept free of links when none was seen.
 * Nothing is granted here: a suggestion is a proposal.
 */
import { REDACTED, redactString } from '../redact/index.ts';
import { type ArgType, type Constraint, decimalText } from './grants.ts';

/** One call the agent made (or tried): from the audit trail, a run's history, or a dry run. */
export interface ObservedCall {
  connectionId: string;
  tool: string;
  args: Record<string, unknown>;
  /** The gate refused it: an agent following injected instructions makes such calls too. */
  refused?: boolean | undefined;
}

/** What the suggester needs of a tool: its name and input schema. */
export interface ToolShape {
  connectionId: string;
  name: string;
  inputSchema: Record<string, unknown>;
}

/** A grant as the grants API takes it (POST …/agents/{agent}/grants). */
export interface SuggestedGrantBody {
  connectionId: string;
  tool: string;
  effect: 'allow';
  constraints: Constraint[];
  /** Kept when the agent's grants already ask a person for this tool: a suggestion never drops it. */
  requiresApproval: boolean;
}

export interface Suggestion {
  grant: SuggestedGrantBody;
  /** How many observed calls it allows (each call is covered by exactly one suggestion). */
  calls: number;
  /**
   * How many of them the gate refused. Refused calls are never folded into a grant with allowed
   * ones (an injected call's values would ride along unseen) — unless the grant they suggest is
   * the very same: then it is one suggestion, its refused calls counted.
   */
  refused: number;
  /** Arguments given that no constraint binds, and why (a person may bind them by hand). */
  open: Array<{ arg: string; why: string }>;
}

export interface Suggestions {
  suggestions: Suggestion[];
  /** Observed calls of tools the connection does not list (nothing is suggested for them). */
  unknownTools: Array<{ connectionId: string; tool: string; calls: number }>;
}

/** Text that is a link somewhere: kept out of prose where none of the observed prose had one. */
export const LINK_PARTS = ['://', 'www.'];
/** Beyond this many values, a set is not a narrow grant: a shared folder is, or nothing is. */
export const MAX_SET = 100;
/** A prefix replaces a set only past this many distinct values (fewer: the exact set is narrower). */
export const PREFIX_FROM = 8;
/** The most constraints one grant takes (the grants API's limit). */
export const MAX_CONSTRAINTS = 20;
/** A prefix must keep at least this much of a path or URL (not `/` nor `https://`). */
const MIN_PREFIX = 4;

/** Names of arguments whose value is written prose, not an identity. */
const PROSE_NAME = /^(body|content|text|message|description|subject|title|summary|comment|notes?|reason)$/i;
/** Names of arguments whose value is a secret: never copied into a grant (grants are shown and audited). */
const SECRET_NAME = /password|passwd|passphrase|secret|token|api_?key|private_?key|credential/i;
/** Names of arguments that hold a path or a URL (a shared prefix means something). */
const PATH_NAME = /path|url|uri|dir|folder|file|link|href/i;

const given = (v: unknown) => v !== null && v !== undefined;

/** Whether observed text values read as prose rather than as one identifying value. */
function isProse(arg: string, values: string[]): boolean {
  return PROSE_NAME.test(arg) || values.some((v) => v.length > 120 || v.includes('\n'));
}

/** The longest prefix of all values that ends just after a `/` (a folder), if it is long enough. */
function folderPrefix(values: string[]): string | null {
  let common = values[0] ?? '';
  for (const v of values) {
    let i = 0;
    while (i < common.length && i < v.length && common[i] === v[i]) i++;
    common = common.slice(0, i);
  }
  const cut = common.lastIndexOf('/');
  if (cut < 0) return null;
  const prefix = common.slice(0, cut + 1);
  const rest = prefix.replace(/^[a-z][a-z0-9+.-]*:\/\/?/i, '').replace(/^\/+/, '');
  return rest.length >= MIN_PREFIX && !prefix.includes('..') ? prefix : null;
}

/** A bound at or beyond the observed extreme, with at most 4 decimals (what Cedar's decimal holds). */
function bound(n: number, side: 'max' | 'min'): number {
  if (decimalText(n) !== null) return n;
  const scaled = side === 'max' ? Math.ceil(n * 1e4) : Math.floor(n * 1e4);
  return scaled / 1e4;
}

type Binding = { constraints: Constraint[]; open?: string };

/** Whether a value holds a credential by its shape (the redaction layer's), or was redacted on record. */
function secretLooking(value: unknown): boolean {
  const texts = Array.isArray(value) ? value : [value];
  return texts.some((t) => typeof t === 'string' && redactString(t) !== t) || texts.includes(REDACTED);
}

const SECRET_LOOKING: Binding = { constraints: [], open: 'a secret-looking value: not copied into a grant' };

/** The narrowest constraints on one argument that hold for every observed value of it. */
function bindArg(arg: string, type: ArgType, values: unknown[]): Binding {
  if (SECRET_NAME.test(arg))
    return { constraints: [], open: 'a secret: its value is not copied into a grant' };
  switch (type) {
    case 'String': {
      const texts = values.filter((v): v is string => typeof v === 'string');
      if (texts.length !== values.length) return { constraints: [], open: 'given in more than one type' };
      if (isProse(arg, texts)) {
        const links = texts.some((t) => LINK_PARTS.some((p) => t.includes(p)));
        return links
          ? { constraints: [], open: 'prose that contained a link' }
          : { constraints: [{ arg, notContains: LINK_PARTS }], open: 'prose: only links are kept out' };
      }
      // Grants are shown and audited: a credential given under any name stays out of them.
      if (texts.some(secretLooking)) return SECRET_LOOKING;
      const distinct = [...new Set(texts)].sort();
      const prefix = distinct.length >= PREFIX_FROM && PATH_NAME.test(arg) ? folderPrefix(distinct) : null;
      if (prefix) return { constraints: [{ arg, prefix }] };
      if (distinct.length > MAX_SET) return { constraints: [], open: `more than ${MAX_SET} distinct values` };
      if (distinct.some((v) => v.length > 1000)) return { constraints: [], open: 'a value too long to list' };
      return { constraints: [{ arg, oneOf: distinct }] };
    }
    case 'Long':
    case 'Decimal': {
      const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (nums.length !== values.length) return { constraints: [], open: 'given in more than one type' };
      const lo = bound(Math.min(...nums), 'min');
      const hi = bound(Math.max(...nums), 'max');
      if (Math.abs(lo) >= 9e14 || Math.abs(hi) >= 9e14)
        return { constraints: [], open: 'too large to bound' };
      return {
        constraints: [
          { arg, min: lo },
          { arg, max: hi },
        ],
      };
    }
    case 'StringSet': {
      const lists = values.filter(
        (v): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string'),
      );
      if (lists.length !== values.length) return { constraints: [], open: 'given in more than one type' };
      if (lists.some(secretLooking)) return SECRET_LOOKING;
      const elements = [...new Set(lists.flat())].sort();
      if (elements.length === 0) return { constraints: [], open: 'only empty lists were seen' };
      if (elements.length > MAX_SET)
        return { constraints: [], open: `more than ${MAX_SET} distinct elements` };
      if (elements.some((v) => v.length > 1000))
        return { constraints: [], open: 'an element too long to list' };
      return { constraints: [{ arg, eachOneOf: elements }] };
    }
    case 'Bool':
      return { constraints: [], open: 'a boolean: the grant language has no constraint on its value' };
    case 'Other':
      return { constraints: [], open: 'neither text, number nor list of text: it cannot be bound' };
  }
}

/** The names a call gave (not null), in order: calls that gave the same names share one grant. */
const shapeOf = (args: Record<string, unknown>) =>
  Object.keys(args)
    .filter((k) => given(args[k]))
    .sort()
    .join('\u0000');

/**
 * The narrowest grants that allow every observed call: for each tool used, one grant per set of
 * arguments given, binding each given argument to what was seen and each other declared argument
 * to being left out. `types` come from the tools' input schemas (grants-service's `argTypes`).
 *
 * @example
 * suggestGrants([{ connectionId: 'con_1', tool: 'send_email', args: { recipients: ['a@x.com'], body: 'hi' } }],
 *   [{ connectionId: 'con_1', name: 'send_email', inputSchema }], argTypes)
 */
export function suggestGrants(
  calls: ObservedCall[],
  tools: ToolShape[],
  argTypes: (inputSchema: Record<string, unknown>) => Record<string, ArgType>,
  /** `connection/tool` of the tools whose calls a person approves now (the agent's grants say so). */
  approved: ReadonlySet<string> = new Set(),
): Suggestions {
  const byTool = new Map<string, { tool: ToolShape; calls: ObservedCall[] }>();
  const unknown = new Map<string, { connectionId: string; tool: string; calls: number }>();
  const known = new Map(tools.map((t) => [`${t.connectionId}\u0000${t.name}`, t]));
  for (const call of calls) {
    const key = `${call.connectionId}\u0000${call.tool}`;
    const tool = known.get(key);
    if (!tool) {
      const u = unknown.get(key) ?? { connectionId: call.connectionId, tool: call.tool, calls: 0 };
      u.calls++;
      unknown.set(key, u);
      continue;
    }
    const group = byTool.get(key) ?? { tool, calls: [] };
    group.calls.push(call);
    byTool.set(key, group);
  }
  const suggestions: Suggestion[] = [];
  const byGrant = new Map<string, Suggestion>();
  // One suggestion per grant: allowed and refused calls that come to the very same grant join.
  const add = (s: Suggestion) => {
    const key = JSON.stringify(s.grant);
    const same = byGrant.get(key);
    if (!same) {
      byGrant.set(key, s);
      suggestions.push(s);
      return;
    }
    same.calls += s.calls;
    same.refused += s.refused;
    for (const o of s.open) if (!same.open.some((x) => x.arg === o.arg && x.why === o.why)) same.open.push(o);
  };
  for (const { tool, calls: used } of byTool.values()) {
    const types = argTypes(tool.inputSchema);
    const shapes = new Map<string, ObservedCall[]>();
    for (const c of used) {
      const key = `${c.refused ? 'refused' : 'allowed'}\u0001${shapeOf(c.args)}`;
      shapes.set(key, [...(shapes.get(key) ?? []), c]);
    }
    for (const [key, same] of shapes) {
      const shape = key.slice(key.indexOf('\u0001') + 1);
      const names = shape === '' ? [] : shape.split('\u0000');
      const constraints: Constraint[] = [];
      const open: Suggestion['open'] = [];
      for (const arg of names) {
        const type = types[arg];
        if (!type) {
          open.push({ arg, why: 'not in the tool’s input schema: a grant cannot name it' });
          continue;
        }
        const b = bindArg(
          arg,
          type,
          same.map((c) => c.args[arg]),
        );
        constraints.push(...b.constraints);
        if (b.open) open.push({ arg, why: b.open });
      }
      const absent = Object.keys(types)
        .sort()
        .filter((arg) => !names.includes(arg));
      const room = MAX_CONSTRAINTS - constraints.length;
      constraints.push(...absent.slice(0, Math.max(0, room)).map((arg) => ({ arg, absent: true as const })));
      for (const arg of absent.slice(Math.max(0, room)))
        open.push({ arg, why: `never given, but a grant holds at most ${MAX_CONSTRAINTS} constraints` });
      add({
        grant: {
          connectionId: tool.connectionId,
          tool: tool.name,
          effect: 'allow',
          constraints,
          requiresApproval: approved.has(`${tool.connectionId}/${tool.name}`),
        },
        calls: same.length,
        refused: same.filter((c) => c.refused).length,
        open,
      });
    }
  }
  suggestions.sort(
    (a, b) =>
      a.grant.connectionId.localeCompare(b.grant.connectionId) ||
      a.grant.tool.localeCompare(b.grant.tool) ||
      a.refused - b.refused,
  );
  return { suggestions, unknownTools: [...unknown.values()] };
}
