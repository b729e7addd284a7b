/**
 * Why a call was denied, in words an agent and a person can act on: no grant for the tool, a
 * grant suspended because the tool changed, arguments outside the grant (which constraint), the
 * grant's time window, or a deny rule. Worked out only for a call Cedar denied, from the grants
 * that bear on its tool, mirroring what each grant compiles to (grants.ts).
 */
import type { Decision, Request } from './engine.ts';
import { type Constraint, decimalText, type Grant } from './grants.ts';
import { describeConstraint } from './permissions.ts';

export type DenialKind = 'no_grant' | 'grant_suspended' | 'outside_grant' | 'deny_rule';

export interface DenialExplained {
  kind: DenialKind;
  /** For the audit record: short and stable. */
  reason: string;
  /** For the agent and the person reading its transcript: what happened and what to do. */
  message: string;
  /** Each allowing grant's unmet conditions, in words (outside_grant). */
  unmet: Array<{ grant: string; conditions: string[] }>;
}

const when = (s: number) => new Date(s * 1000).toISOString();

/** Whether the argument meets the constraint, as its Cedar condition decides it (grants.ts). */
export function meets(c: Constraint, v: unknown): boolean {
  const given = v !== null && v !== undefined;
  if ('prefix' in c) return typeof v === 'string' && v.startsWith(c.prefix) && !v.includes('..');
  if ('oneOf' in c) return typeof v === 'string' && c.oneOf.includes(v);
  if ('eachOneOf' in c)
    return Array.isArray(v) && v.every((x) => typeof x === 'string' && c.eachOneOf.includes(x));
  if ('notContains' in c)
    return !given || (typeof v === 'string' && !c.notContains.some((p) => v.includes(p)));
  if ('absent' in c) return !given;
  if (typeof v !== 'number' || decimalText(v) === null) return false;
  return 'max' in c ? v <= c.max : v >= c.min;
}

/** What an allowing grant requires that this call does not give (empty: it would allow it). */
function unmetBy(g: Grant, args: Record<string, unknown>, now: number): string[] {
  const out: string[] = [];
  for (const c of g.constraints) {
    if (meets(c, args[c.arg])) continue;
    out.push(`${describeConstraint(c)}${args[c.arg] === undefined ? ` (${c.arg} is missing)` : ''}`);
  }
  if (g.notBefore !== undefined && now < g.notBefore) out.push(`it is ${when(g.notBefore)} or later`);
  if (g.notAfter !== undefined && now >= g.notAfter) out.push(`it is before ${when(g.notAfter)}`);
  return out;
}

/** How a denial speaks of what was asked: `call` a `tool`, `read` a `resource`, `get` a `prompt`… */
export function wordsFor(ask: Pick<Request, 'action' | 'completing'>): { verb: string; noun: string } {
  switch (ask.action ?? 'call') {
    case 'call':
      return { verb: 'call', noun: 'tool' };
    case 'read':
      return { verb: 'read', noun: 'resource' };
    case 'subscribe':
      return { verb: 'subscribe to', noun: 'resource' };
    case 'sample':
      return { verb: 'pass on requests for its model from', noun: 'connection (a sampling grant)' };
    case 'elicit':
      return { verb: 'pass on questions for its person from', noun: 'connection (an elicitation grant)' };
    case 'get':
      return { verb: 'get', noun: 'prompt' };
    case 'complete':
      return {
        verb: 'complete arguments of',
        noun: ask.completing === 'resource' ? 'resource template' : 'prompt',
      };
  }
}

/**
 * Why `decision` denied the call of `tool` (shown to the agent as `name`). `grants`: the agent's
 * active grants bearing on the tool; `suspended`: whether a grant of it is suspended. A read, a
 * prompt or a completion (`action`) is explained in its own words.
 */
export function explainDenial(
  decision: Decision,
  grants: Grant[],
  call: { name: string; args: Record<string, unknown>; now: number } & Pick<Request, 'action' | 'completing'>,
  suspended: boolean,
): DenialExplained {
  const { name, args, now } = call;
  const { verb, noun } = wordsFor(call);
  const denies = grants.filter((g) => decision.grants.includes(g.id) && g.effect === 'deny');
  if (denies.length > 0 || decision.grants.length > 0) {
    return {
      kind: 'deny_rule',
      reason: 'an explicit deny',
      message: `A deny rule forbids this agent to ${verb} ${name}. Do not retry it; a person who manages this agent's grants decides whether it may.`,
      unmet: [],
    };
  }
  const allows = grants.filter((g) => g.effect === 'allow');
  if (allows.length === 0) {
    if (suspended) {
      return {
        kind: 'grant_suspended',
        reason: `the ${noun}'s grant is suspended (its definition changed)`,
        message: `No grant allows ${name} right now: its grant is suspended because the ${noun}'s definition changed since it was granted. A person who manages this agent's grants must review the ${noun} and grant it again.`,
        unmet: [],
      };
    }
    return {
      kind: 'no_grant',
      reason: `no grant for this ${noun}`,
      message: `No grant allows this agent to ${verb} ${name}: it has none for this ${noun}. A person who manages this agent's grants can add one.`,
      unmet: [],
    };
  }
  const unmet = allows.map((g) => ({ grant: g.id, conditions: unmetBy(g, args, now) }));
  const words = unmet
    .filter((u) => u.conditions.length > 0)
    .map((u) => u.conditions.join(' and '))
    .join('; or ');
  return {
    kind: 'outside_grant',
    reason: `arguments outside the grant: needs ${words || 'what the grant requires'}`,
    message: `No grant allows ${name} with these arguments: the grant needs ${words || 'what it requires'}. Call again within the grant, or ask a person who manages this agent's grants to widen it.`,
    unmet,
  };
}
