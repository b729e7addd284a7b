/**
 * Grants, the unit of least privilege: this agent may call this tool (or every tool of a
 * connection), optionally only with arguments inside constraints, only within a time window,
 * optionally only with a person's approval — or, as an explicit deny, may never call it.
 * Each grant compiles to one Cedar policy.
 */

export type Constraint =
  | { arg: string; prefix: string }
  | { arg: string; oneOf: string[] }
  | { arg: string; max: number }
  | { arg: string; min: number };

export interface Grant {
  id: string;
  agentId: string;
  connectionId: string;
  /** A tool name, or `*` for every tool of the connection. */
  tool: string;
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

function condition(c: Constraint): string {
  const attr = `context.args[${cedarString(c.arg)}]`;
  const has = `context.args has ${cedarString(c.arg)}`;
  // A prefix guards a subtree: a value that could climb out of it with `..` never matches.
  if ('prefix' in c) return `(${has} && ${attr} like ${likePrefix(c.prefix)} && !(${attr} like "*..*"))`;
  if ('oneOf' in c) return `(${has} && [${c.oneOf.map(cedarString).join(', ')}].contains(${attr}))`;
  if ('max' in c) return `(${has} && ${attr} <= ${Math.trunc(c.max)})`;
  return `(${has} && ${attr} >= ${Math.trunc(c.min)})`;
}

/** The grant as one Cedar policy (its id is the grant's id in the policy set). */
export function compileGrant(g: Grant): string {
  const principal = `principal == Paddock::Agent::${cedarString(g.agentId)}`;
  const action = 'action == Paddock::Action::"call"';
  const resource =
    g.tool === '*'
      ? `resource in Paddock::Connection::${cedarString(g.connectionId)}`
      : `resource == Paddock::Tool::${cedarString(toolUid(g.connectionId, g.tool))}`;
  const when: string[] = [];
  if (g.effect === 'allow') {
    for (const c of g.constraints) when.push(condition(c));
    if (g.requiresApproval) when.push('context.approved');
  }
  if (g.notBefore !== undefined) when.push(`context.now >= ${Math.trunc(g.notBefore)}`);
  if (g.notAfter !== undefined) when.push(`context.now < ${Math.trunc(g.notAfter)}`);
  const verb = g.effect === 'allow' ? 'permit' : 'forbid';
  const body = when.length ? ` when { ${when.join(' && ')} }` : '';
  return `${verb}(${principal}, ${action}, ${resource})${body};`;
}

export type ArgType = 'String' | 'Long' | 'Bool';

/**
 * The Cedar schema requests are validated against. Argument attributes are declared from the
 * tools' input schemas (all optional: a call may leave any out).
 */
export function cedarSchema(args: Record<string, ArgType>): string {
  const fields = Object.entries(args)
    .map(([name, type]) => `${cedarString(name)}?: ${type}`)
    .join(', ');
  return `namespace Paddock {
  entity Agent;
  entity Connection;
  entity Tool in [Connection];
  type Args = { ${fields} };
  action "call" appliesTo { principal: Agent, resource: Tool, context: { args: Args, now: Long, approved: Bool } };
}`;
}
