/**
 * Grants, the unit of least privilege: this agent may call this tool (or every tool of a
 * connection), optionally only with arguments inside constraints, only within a time window,
 * optionally only with a person's approval — or, as an explicit deny, may never call it. The same
 * holds for a connection's prompts (by name, or `*`: get them, and complete their arguments) and
 * resources (by URI, exact or prefix: read them, subscribe to them, and complete the templates
 * under it). Two grants go the other way, of what a connection's server may ask: `sampling` (a
 * completion from the agent's model) and `elicitation` (an answer from the agent's person).
 * Each grant compiles to one Cedar policy.
 */

export type Constraint =
  | { arg: string; prefix: string }
  | { arg: string; oneOf: string[] }
  /** A list argument: every element is one of these (an empty list passes). */
  | { arg: string; eachOneOf: string[] }
  /** A text argument, if given, contains none of these (literally, case-sensitive). */
  | { arg: string; notContains: string[] }
  /** The argument is not given (or given as null). */
  | { arg: string; absent: true }
  /** A number (whole or with up to 4 decimals) at most / at least this. */
  | { arg: string; max: number }
  | { arg: string; min: number };

/** What a grant is of: what the agent may ask of a connection, or what its server may ask of the agent. */
export type GrantKind = 'tool' | 'resource' | 'prompt' | 'sampling' | 'elicitation';

/**
 * What is asked: the agent calls a tool, reads a resource (or subscribes to it), gets a prompt,
 * completes an argument; the connection's server samples the agent's model or elicits from its person.
 */
export type Action = 'call' | 'read' | 'subscribe' | 'get' | 'complete' | 'sample' | 'elicit';

/** The kinds of grant of what a server asks of the agent (they name no tool: the connection is all). */
export const SERVER_ASKS: ReadonlySet<GrantKind> = new Set(['sampling', 'elicitation']);

export interface Grant {
  id: string;
  agentId: string;
  connectionId: string;
  /** What it is of (a tool when absent). */
  kind?: GrantKind | undefined;
  /**
   * A tool name, or `*` for every tool of the connection; a prompt's name (or `*`); a resource's
   * URI, or a prefix of URIs (`match`).
   */
  tool: string;
  /** A resource grant's URI: the resource's exactly, or a prefix of those it covers. */
  match?: 'exact' | 'prefix' | undefined;
  effect: 'allow' | 'deny';
  constraints: Constraint[];
  /** Unix seconds; the grant applies from `notBefore` up to (not including) `notAfter`. */
  notBefore?: number | undefined;
  notAfter?: number | undefined;
  requiresApproval: boolean;
}

/** Cedar string literal. */
export function cedarString(s: string): string {
  return JSON.stringify(s);
}

/** A `like` pattern matching `prefix` literally, then anything. */
function likePrefix(prefix: string): string {
  return `"${JSON.stringify(prefix).slice(1, -1).replaceAll('*', '\\*')}*"`;
}

export const toolUid = (connectionId: string, tool: string) => `${connectionId}/${tool}`;

/** A URI under a prefix grant: it starts with the prefix and cannot climb out (`..`, an encoded dot). */
export function underPrefix(uri: string, prefix: string): boolean {
  return uri.startsWith(prefix) && !uri.includes('..') && !/%2e/i.test(uri);
}

/** Whether a resource grant covers this URI (as its Cedar condition decides it). */
export function coversUri(g: Pick<Grant, 'tool' | 'match'>, uri: string): boolean {
  return g.match === 'prefix' ? underPrefix(uri, g.tool) : uri === g.tool;
}

/** The Cedar condition of a resource grant on `context.uri`. */
function uriCondition(g: Grant): string {
  if (g.match !== 'prefix') return `context.uri == ${cedarString(g.tool)}`;
  return `(context.uri like ${likePrefix(g.tool)} && !(context.uri like "*..*") && !(context.uri like "*%2e*") && !(context.uri like "*%2E*"))`;
}

/** A `like` pattern matching any text that contains `part` literally. */
function likeContaining(part: string): string {
  return `"*${JSON.stringify(part).slice(1, -1).replaceAll('*', '\\*')}*"`;
}

/**
 * A number as Cedar's `decimal` takes it (digits, a point, 1–4 decimals), or null when it has no
 * exact form there (more than 4 decimals, or beyond ±922,337,203,685,477).
 */
export function decimalText(n: number): string | null {
  if (!Number.isFinite(n) || Math.abs(n) >= 9e14 || Math.round(n * 1e4) / 1e4 !== n) return null;
  const [whole, frac = '0'] = n.toFixed(4).replace(/0+$/, '').split('.');
  return `${whole}.${frac || '0'}`;
}

function condition(c: Constraint): string {
  const name = cedarString(c.arg);
  const attr = `context.args[${name}]`;
  const has = `context.args has ${name}`;
  // A prefix guards a subtree: a value that could climb out of it with `..` never matches.
  if ('prefix' in c) return `(${has} && ${attr} like ${likePrefix(c.prefix)} && !(${attr} like "*..*"))`;
  if ('oneOf' in c) return `(${has} && [${c.oneOf.map(cedarString).join(', ')}].contains(${attr}))`;
  if ('eachOneOf' in c)
    return `(context.lists has ${name} && [${c.eachOneOf.map(cedarString).join(', ')}].containsAll(context.lists[${name}]))`;
  // Given in any form, it must be text without the parts (a list or object given instead never passes).
  if ('notContains' in c) {
    const none = c.notContains.map((p) => ` && !(${attr} like ${likeContaining(p)})`).join('');
    return `(!context.given.contains(${name}) || (${has}${none}))`;
  }
  if ('absent' in c) return `!context.given.contains(${name})`;
  const num = `context.numbers[${name}]`;
  const max = 'max' in c;
  const bound = max ? c.max : c.min;
  // A whole number compares as a Long (fast), against the bound rounded toward the inside; any
  // other number as a decimal. An unrepresentable bound is refused when the grant is saved.
  const whole = max ? Math.floor(bound) : Math.ceil(bound);
  const text = decimalText(bound) ?? 'NaN';
  const method = max ? 'lessThanOrEqual' : 'greaterThanOrEqual';
  return `((${has} && ${attr} ${max ? '<=' : '>='} ${whole}) || (context.numbers has ${name} && ${num}.${method}(decimal(${cedarString(text)}))))`;
}

const COMPLETE = 'action == Paddock::Action::"complete"';

/** The grant's scope: which actions on which entities (its kind's). */
function scopeOf(g: Grant): { action: string; resource: string } {
  const conn = `Paddock::Connection::${cedarString(g.connectionId)}`;
  switch (g.kind ?? 'tool') {
    case 'tool':
      return {
        action: 'action == Paddock::Action::"call"',
        resource:
          g.tool === '*'
            ? `resource in ${conn}`
            : `resource == Paddock::Tool::${cedarString(toolUid(g.connectionId, g.tool))}`,
      };
    case 'prompt':
      return {
        action: 'action in [Paddock::Action::"get", Paddock::Action::"complete"]',
        resource:
          g.tool === '*'
            ? `resource is Paddock::Prompt in ${conn}`
            : `resource == Paddock::Prompt::${cedarString(toolUid(g.connectionId, g.tool))}`,
      };
    case 'resource':
      return {
        action:
          'action in [Paddock::Action::"read", Paddock::Action::"subscribe", Paddock::Action::"complete"]',
        resource: `resource is Paddock::Resource in ${conn}`,
      };
    // What the server asks of the agent: the connection itself is the resource.
    case 'sampling':
      return { action: 'action == Paddock::Action::"sample"', resource: `resource == ${conn}` };
    case 'elicitation':
      return { action: 'action == Paddock::Action::"elicit"', resource: `resource == ${conn}` };
  }
}

/** The grant as one Cedar policy (its id is the grant's id in the policy set). */
export function compileGrant(g: Grant): string {
  const principal = `principal == Paddock::Agent::${cedarString(g.agentId)}`;
  const { action, resource } = scopeOf(g);
  const kind = g.kind ?? 'tool';
  const when: string[] = [];
  if (kind === 'resource') when.push(uriCondition(g));
  if (g.effect === 'allow') {
    // Completing an argument runs nothing: argument constraints and approval bind the get or read.
    const bound: string[] = g.constraints.map(condition);
    if (g.requiresApproval) bound.push('context.approved');
    if (bound.length && kind !== 'tool') when.push(`(${COMPLETE} || (${bound.join(' && ')}))`);
    else when.push(...bound);
  }
  if (g.notBefore !== undefined) when.push(`context.now >= ${Math.trunc(g.notBefore)}`);
  if (g.notAfter !== undefined) when.push(`context.now < ${Math.trunc(g.notAfter)}`);
  const verb = g.effect === 'allow' ? 'permit' : 'forbid';
  const body = when.length ? ` when { ${when.join(' && ')} }` : '';
  return `${verb}(${principal}, ${action}, ${resource})${body};`;
}

/** An argument's type as grants see it: `Other` is an argument no constraint but `absent` can bind. */
export type ArgType = 'String' | 'Long' | 'Bool' | 'Decimal' | 'StringSet' | 'Other';

/**
 * The Cedar schema requests are validated against. Argument attributes are declared from the
 * tool's input schema or the prompt's arguments (all optional: a call may leave any out): text,
 * whole numbers and booleans in `args`, every other number as a `decimal` in `numbers`,
 * lists of text as sets in `lists`, and the names of every argument given in `given`. Every
 * action has the same context: `uri` is a read's or a subscription's (or a template
 * completion's) URI, '' otherwise.
 */
export function cedarSchema(args: Record<string, ArgType>): string {
  const of = (pick: (t: ArgType) => string | null) =>
    Object.entries(args)
      .flatMap(([name, type]) => {
        const t = pick(type);
        return t ? [`${cedarString(name)}?: ${t}`] : [];
      })
      .join(', ');
  // A number argument given a whole number arrives as a Long, any other number as a decimal.
  const fields = of((t) =>
    t === 'Decimal' ? 'Long' : t === 'String' || t === 'Long' || t === 'Bool' ? t : null,
  );
  const numbers = of((t) => (t === 'Long' || t === 'Decimal' ? 'decimal' : null));
  const lists = of((t) => (t === 'StringSet' ? 'Set<String>' : null));
  return `namespace Paddock {
  entity Agent;
  entity Connection;
  entity Tool in [Connection];
  entity Prompt in [Connection];
  entity Resource in [Connection];
  type Args = { ${fields} };
  type Numbers = { ${numbers} };
  type Lists = { ${lists} };
  type Ctx = { args: Args, numbers: Numbers, lists: Lists, given: Set<String>, uri: String, now: Long, approved: Bool };
  action "call" appliesTo { principal: Agent, resource: Tool, context: Ctx };
  action "get" appliesTo { principal: Agent, resource: Prompt, context: Ctx };
  action "read" appliesTo { principal: Agent, resource: Resource, context: Ctx };
  action "subscribe" appliesTo { principal: Agent, resource: Resource, context: Ctx };
  action "complete" appliesTo { principal: Agent, resource: [Prompt, Resource], context: Ctx };
  action "sample" appliesTo { principal: Agent, resource: Connection, context: Ctx };
  action "elicit" appliesTo { principal: Agent, resource: Connection, context: Ctx };
}`;
}
