/**
 * Effective permissions: what an agent's grants add up to, tool by tool, across its org's
 * connections. The grants editor shows it, and the MCP endpoint lists exactly the tools whose
 * access is not `denied`. The decision for a given call is still Cedar's, in the gateway.
 */

import { definitionOfRow, type ToolDefinition } from '../connections/definitions.ts';
import type { Db } from '../store/index.ts';
import { type Constraint, coversUri, type Grant, type GrantKind } from './grants.ts';
import { type GrantInfo, toGrant } from './grants-service.ts';

export type Access = 'allowed' | 'conditional' | 'denied';

export interface ToolPermission {
  connectionId: string;
  connectionName: string;
  /** The connection's prefix for its tools on the MCP endpoint (`<namespace>__<tool>`). */
  namespace: string;
  tool: ToolDefinition;
  access: Access;
  /** Every call needs a person's approval (each allowing grant asks for one). */
  needsApproval: boolean;
  /** What the allowing grants require, in words (one line per grant). */
  conditions: string[];
  /** Grants bearing on this tool: the active ones, and any suspended by a definition change. */
  grants: string[];
  suspended: string[];
}

const when = (s: number) => new Date(s * 1000).toISOString();

/** A constraint in words, as the grants editor and denials show it. */
export function describeConstraint(c: Constraint): string {
  if ('prefix' in c) return `${c.arg} starts with "${c.prefix}" (no "..")`;
  if ('oneOf' in c) return `${c.arg} is one of ${c.oneOf.map((v) => `"${v}"`).join(', ')}`;
  if ('eachOneOf' in c) return `each of ${c.arg} is one of ${c.eachOneOf.map((v) => `"${v}"`).join(', ')}`;
  if ('notContains' in c) return `${c.arg} contains none of ${c.notContains.map((v) => `"${v}"`).join(', ')}`;
  if ('absent' in c) return `${c.arg} is not given`;
  if ('max' in c) return `${c.arg} ≤ ${c.max}`;
  return `${c.arg} ≥ ${c.min}`;
}

function conditionsOf(g: Grant): string[] {
  const out = g.constraints.map(describeConstraint);
  if (g.notBefore !== undefined) out.push(`from ${when(g.notBefore)}`);
  if (g.notAfter !== undefined) out.push(`until ${when(g.notAfter)}`);
  if (g.requiresApproval) out.push('with a person’s approval');
  return out;
}

/** A connection's namespace: its name in lower case, letters, digits and dashes only. */
export function namespaceOf(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'connection'
  );
}

/** Every connection's namespace in the org (a clash of names gets the id's tail appended). */
export async function connectionNamespaces(db: Db, orgId: string): Promise<Map<string, string>> {
  const all = await db
    .selectFrom('connections')
    .select(['id', 'name'])
    .where('org_id', '=', orgId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const c of all) {
    let ns = namespaceOf(c.name);
    if (taken.has(ns)) ns = `${ns}-${c.id.slice(-6).toLowerCase()}`;
    taken.add(ns);
    out.set(c.id, ns);
  }
  return out;
}

/** The connection an agent names by its namespace (`<namespace>__<tool>`), if any. */
export async function connectionOfNamespace(
  db: Db,
  orgId: string,
  namespace: string,
): Promise<string | undefined> {
  for (const [id, ns] of await connectionNamespaces(db, orgId)) if (ns === namespace) return id;
  return undefined;
}

export function accessOf(grants: Grant[]): Pick<ToolPermission, 'access' | 'needsApproval' | 'conditions'> {
  const denies = grants.filter((g) => g.effect === 'deny');
  const allows = grants.filter((g) => g.effect === 'allow');
  if (allows.length === 0 || denies.some((g) => conditionsOf(g).length === 0)) {
    return { access: 'denied', needsApproval: false, conditions: [] };
  }
  const conditions = allows.map((g) => conditionsOf(g).join(' and ') || 'always');
  for (const d of denies) conditions.push(`never ${conditionsOf(d).join(' and ')}`);
  const plain = allows.some((g) => conditionsOf(g).length === 0) && denies.length === 0;
  return {
    access: plain ? 'allowed' : 'conditional',
    needsApproval: allows.every((g) => g.requiresApproval),
    conditions: plain ? [] : conditions,
  };
}

/** The agent's permissions on every tool that any of its grants names (others: default deny). */
export async function effectivePermissions(
  db: Db,
  orgId: string,
  agentId: string,
): Promise<ToolPermission[]> {
  const rows = await db
    .selectFrom('grants')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('agent_id', '=', agentId)
    .where('status', 'in', ['active', 'suspended'])
    .execute();
  if (rows.length === 0) return [];
  const grants = rows.map(toGrant);
  const connectionIds = [...new Set(grants.map((g) => g.connectionId))];
  const connections = await db
    .selectFrom('connections')
    .select(['id', 'name'])
    .where('org_id', '=', orgId)
    .where('id', 'in', connectionIds)
    .execute();
  const tools = await db
    .selectFrom('connection_tools')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('connection_id', 'in', connectionIds)
    .orderBy('connection_id')
    .orderBy('name')
    .execute();
  const names = new Map(connections.map((c) => [c.id, c.name]));
  const namespaces = await connectionNamespaces(db, orgId);
  // Grants by connection and tool name (`*` among them): one lookup per tool, not a scan.
  const byTool = new Map<string, GrantInfo[]>();
  for (const g of grants) {
    if ((g.kind ?? 'tool') !== 'tool') continue;
    const key = `${g.connectionId}\0${g.tool}`;
    const list = byTool.get(key);
    if (list) list.push(g);
    else byTool.set(key, [g]);
  }
  const order = new Map(grants.map((g, i) => [g, i]));
  const none: GrantInfo[] = [];
  const out: ToolPermission[] = [];
  for (const t of tools) {
    const named = byTool.get(`${t.connection_id}\0${t.name}`) ?? none;
    const any = t.name === '*' ? none : (byTool.get(`${t.connection_id}\0*`) ?? none);
    // In the order the grants were read, as a scan would give them.
    const bearing =
      any.length === 0 ? named : [...named, ...any].sort((a, b) => order.get(a)! - order.get(b)!);
    if (bearing.length === 0) continue;
    const active = bearing.filter((g) => g.status === 'active');
    out.push({
      connectionId: t.connection_id,
      connectionName: names.get(t.connection_id) ?? t.connection_id,
      namespace: namespaces.get(t.connection_id) ?? t.connection_id,
      tool: definitionOfRow(t),
      ...accessOf(active),
      grants: active.map((g) => g.id),
      suspended: bearing.filter((g) => g.status === 'suspended').map((g) => g.id),
    });
  }
  return out;
}

/** What the agent's grants allow of one prompt (the grants editor; `prompts/list` shows those not denied). */
export interface PromptPermission extends Omit<ToolPermission, 'tool'> {
  /** The prompt's definition as kept (scrubbed). */
  prompt: Record<string, unknown> & { name: string };
}

/** One resource grant, in words: a URI or a prefix, what it allows. */
export interface ResourcePermission extends Omit<ToolPermission, 'tool'> {
  uri: string;
  match: 'exact' | 'prefix';
  effect: 'allow' | 'deny';
}

/** A listed resource or template the agent may read (or complete), under its connection's namespace. */
/** What a connection's server may ask of the agent (sampling, elicitation), per connection granted. */
export interface AskPermission extends Omit<ToolPermission, 'tool' | 'needsApproval'> {
  ask: 'sampling' | 'elicitation';
}

export interface VisibleOffering {
  connectionId: string;
  namespace: string;
  definition: Record<string, unknown>;
  needsApproval: boolean;
}

async function grantsOfKinds(
  db: Db,
  orgId: string,
  agentId: string,
  kinds: GrantKind[],
): Promise<GrantInfo[]> {
  const rows = await db
    .selectFrom('grants')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('agent_id', '=', agentId)
    .where('kind', 'in', kinds)
    .where('status', 'in', ['active', 'suspended'])
    .execute();
  return rows.map(toGrant);
}

/**
 * The agent's permissions on prompts (each listed prompt a grant names), its resource grants
 * (URIs are not enumerable: one line per grant), and what each connection's server may ask of it
 * (one line per connection and kind a grant names). Everything else: denied by default.
 */
export async function offeringPermissions(
  db: Db,
  orgId: string,
  agentId: string,
): Promise<{ prompts: PromptPermission[]; resources: ResourcePermission[]; asks: AskPermission[] }> {
  const grants = await grantsOfKinds(db, orgId, agentId, ['prompt', 'resource', 'sampling', 'elicitation']);
  if (grants.length === 0) return { prompts: [], resources: [], asks: [] };
  const connectionIds = [...new Set(grants.map((g) => g.connectionId))];
  const connections = await db
    .selectFrom('connections')
    .select(['id', 'name'])
    .where('org_id', '=', orgId)
    .where('id', 'in', connectionIds)
    .execute();
  const names = new Map(connections.map((c) => [c.id, c.name]));
  const namespaces = await connectionNamespaces(db, orgId);
  const where = (connectionId: string) => ({
    connectionId,
    connectionName: names.get(connectionId) ?? connectionId,
    namespace: namespaces.get(connectionId) ?? connectionId,
  });
  const prompts: PromptPermission[] = [];
  const promptGrants = grants.filter((g) => g.kind === 'prompt');
  if (promptGrants.length > 0) {
    const rows = await db
      .selectFrom('connection_offerings')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('kind', '=', 'prompt')
      .where('connection_id', 'in', [...new Set(promptGrants.map((g) => g.connectionId))])
      .orderBy('connection_id')
      .orderBy('key')
      .execute();
    for (const r of rows) {
      const bearing = promptGrants.filter(
        (g) => g.connectionId === r.connection_id && (g.tool === r.key || g.tool === '*'),
      );
      if (bearing.length === 0) continue;
      const active = bearing.filter((g) => g.status === 'active');
      prompts.push({
        ...where(r.connection_id),
        prompt: JSON.parse(r.definition) as PromptPermission['prompt'],
        ...accessOf(active),
        grants: active.map((g) => g.id),
        suspended: bearing.filter((g) => g.status === 'suspended').map((g) => g.id),
      });
    }
  }
  const resources = grants
    .filter((g) => g.kind === 'resource' && g.status === 'active')
    .map((g) => ({
      ...where(g.connectionId),
      uri: g.tool,
      match: g.match ?? 'exact',
      effect: g.effect,
      ...(g.effect === 'deny'
        ? { access: 'denied' as const, needsApproval: false, conditions: [] }
        : accessOf([g])),
      grants: [g.id],
      suspended: [],
    }));
  const asks: AskPermission[] = [];
  for (const ask of ['sampling', 'elicitation'] as const) {
    const of = grants.filter((g) => g.kind === ask && g.status === 'active');
    for (const connectionId of [...new Set(of.map((g) => g.connectionId))]) {
      const bearing = of.filter((g) => g.connectionId === connectionId);
      const { needsApproval: _, ...access } = accessOf(bearing);
      asks.push({ ...where(connectionId), ask, ...access, grants: bearing.map((g) => g.id), suspended: [] });
    }
  }
  return { prompts, resources, asks };
}

/**
 * What `prompts/list`, `resources/list` and `resources/templates/list` show the agent: listed
 * prompts its grants allow, and listed resources and templates (by their URI template's text)
 * under an allowing resource grant that no unconditional deny covers.
 */
export async function visibleOfferings(
  db: Db,
  orgId: string,
  agentId: string,
): Promise<{ prompts: VisibleOffering[]; resources: VisibleOffering[]; templates: VisibleOffering[] }> {
  const out = {
    prompts: [] as VisibleOffering[],
    resources: [] as VisibleOffering[],
    templates: [] as VisibleOffering[],
  };
  const grants = (await grantsOfKinds(db, orgId, agentId, ['prompt', 'resource'])).filter(
    (g) => g.status === 'active',
  );
  if (grants.length === 0) return out;
  const rows = await db
    .selectFrom('connection_offerings')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('connection_id', 'in', [...new Set(grants.map((g) => g.connectionId))])
    .orderBy('connection_id')
    .orderBy('kind')
    .orderBy('key')
    .execute();
  const namespaces = await connectionNamespaces(db, orgId);
  for (const r of rows) {
    const kind = r.kind === 'prompt' ? 'prompt' : 'resource';
    const bearing = grants.filter(
      (g) =>
        g.kind === kind &&
        g.connectionId === r.connection_id &&
        (kind === 'resource' ? coversUri(g, r.key) : g.tool === r.key || g.tool === '*'),
    );
    const access = accessOf(bearing);
    if (access.access === 'denied') continue;
    const seen = {
      connectionId: r.connection_id,
      namespace: namespaces.get(r.connection_id) ?? r.connection_id,
      definition: JSON.parse(r.definition) as Record<string, unknown>,
      needsApproval: access.needsApproval,
    };
    (r.kind === 'prompt' ? out.prompts : r.kind === 'resource' ? out.resources : out.templates).push(seen);
  }
  return out;
}
