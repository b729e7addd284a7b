/**
 * Granting and revoking tools, prompts and resources. A grant is checked when saved: the agent
 * and connection exist in the org, the tool (or prompt) exists (unless `*`), its constraints
 * compile and type-check against the tool's input schema (the prompt's arguments); it pins the
 * tool's (prompt's) definition digest. A resource grant names a URI, exactly or as a prefix, and
 * pins nothing: what a resource holds changes by nature. A sampling or elicitation grant names only
 * the connection whose server may ask the agent's model or person. Revoking one grant leaves the others.
 * Who granted or revoked what, and when, is audited.
 */
import type { Kysely } from 'kysely';
import { requireAgentRow } from '../agents/index.ts';
import { recordAudit, recordChange } from '../audit/index.ts';
import { digestVersion, type VettedTool } from '../connections/definitions.ts';
import { BadRequestError, NotFoundError } from '../errors/index.ts';
import type { OrgContext } from '../identity/context.ts';
import { newId } from '../ids/index.ts';
import type { Database, Db, OrgScope } from '../store/index.ts';
import type { GrantTable } from '../store/schema.ts';
import { type Decision, decideOnce, validateGrants } from './engine.ts';
import { checkConstraintArguments } from './grant-arguments.ts';
import {
  type Action,
  type ArgType,
  type Constraint,
  type Grant,
  type GrantKind,
  SERVER_ASKS,
} from './grants.ts';

export interface GrantInfo extends Grant {
  toolDigest: string | null;
  status: GrantTable['status'];
  createdBy: string;
  createdAt: string;
  revokedBy: string | null;
  revokedAt: string | null;
}

export function toGrant(r: GrantTable): GrantInfo {
  return {
    id: r.id,
    agentId: r.agent_id,
    connectionId: r.connection_id,
    kind: r.kind ?? 'tool',
    tool: r.tool,
    ...(r.uri_match ? { match: r.uri_match } : {}),
    effect: r.effect,
    constraints: JSON.parse(r.constraints) as Constraint[],
    notBefore: r.not_before === null ? undefined : Number(r.not_before),
    notAfter: r.not_after === null ? undefined : Number(r.not_after),
    requiresApproval: r.requires_approval === 1,
    toolDigest: r.tool_digest,
    status: r.status,
    createdBy: r.created_by,
    createdAt: r.created_at,
    revokedBy: r.revoked_by,
    revokedAt: r.revoked_at,
  };
}

/** Every change to an agent's grants moves its version on, in the same transaction. */
export async function bumpGrantsVersion(trx: Db, orgId: string, agentId: string): Promise<void> {
  await trx
    .updateTable('agents')
    .set((eb) => ({ grants_version: eb('grants_version', '+', 1) }))
    .where('org_id', '=', orgId)
    .where('id', '=', agentId)
    .execute();
}

type Prop = { type?: unknown; anyOf?: unknown; items?: unknown };

/** A property's one type besides null (`anyOf` of it and null, or `type: [it, "null"]`), if it has one. */
function soleType(p: Prop): Prop | undefined {
  const branches = Array.isArray(p.anyOf)
    ? (p.anyOf as Prop[])
    : Array.isArray(p.type)
      ? (p.type as unknown[]).map((type) => ({ ...p, type }))
      : [p];
  const real = branches.filter((b) => b && typeof b === 'object' && b.type !== 'null');
  return real.length === 1 ? real[0] : undefined;
}

/** Cedar types of a tool's arguments, from its JSON Schema (optional ones may also be null). */
export function argTypes(inputSchema: Record<string, unknown>): Record<string, ArgType> {
  const props = (inputSchema.properties ?? {}) as Record<string, Prop>;
  const out: Record<string, ArgType> = {};
  const defs = (inputSchema.$defs ?? inputSchema.definitions ?? {}) as Record<string, Prop>;
  // A property that is a local reference (`#/$defs/Permission`, an enum) has the type it refers to.
  const resolve = (p: Prop & { $ref?: unknown }): Prop =>
    typeof p.$ref === 'string' && /^#\/(\$defs|definitions)\/[^/]+$/.test(p.$ref)
      ? (defs[p.$ref.split('/')[2] ?? ''] ?? p)
      : p;
  for (const [name, p] of Object.entries(props)) {
    const t = soleType(resolve(p ?? {}));
    const items = t?.items as Prop | undefined;
    if (t?.type === 'string') out[name] = 'String';
    else if (t?.type === 'integer') out[name] = 'Long';
    else if (t?.type === 'number') out[name] = 'Decimal';
    else if (t?.type === 'boolean') out[name] = 'Bool';
    else if (t?.type === 'array' && items?.type === 'string') out[name] = 'StringSet';
    else out[name] = 'Other';
  }
  return out;
}

export interface NewGrant {
  connectionId: string;
  /** A tool when absent. */
  kind?: GrantKind | undefined;
  /** The tool or prompt (or `*`), or the resource's URI (a prefix, with `match`). */
  tool: string;
  match?: 'exact' | 'prefix' | undefined;
  effect: 'allow' | 'deny';
  constraints: Constraint[];
  notBefore?: number | undefined;
  notAfter?: number | undefined;
  requiresApproval: boolean;
}

export async function createGrant(
  db: Kysely<Database>,
  ctx: OrgContext,
  agentId: string,
  input: NewGrant,
): Promise<GrantInfo> {
  return db.transaction().execute(async (trx) => {
    await requireAgentRow(trx, ctx, agentId);
    const conn = await trx
      .selectFrom('connections')
      .select('id')
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', input.connectionId)
      .executeTakeFirst();
    if (!conn)
      throw new NotFoundError('connection_not_found', 'No connection with that id in this organization.');
    let digest: string | null = null;
    let args: Record<string, ArgType> = {};
    const kind = input.kind ?? 'tool';
    if (SERVER_ASKS.has(kind)) {
      // What a server may ask of the agent: the connection is all it names (no tool, no arguments).
      if (input.constraints.length > 0 || input.requiresApproval)
        throw new BadRequestError(
          'invalid_grant',
          `A ${kind} grant takes no argument constraints and no approval: it allows or denies the connection's ${kind === 'sampling' ? 'requests for a completion from the agent’s model' : 'questions to the agent’s person'}.`,
        );
      input = { ...input, tool: '*' };
    } else if (kind === 'resource') {
      if (input.constraints.length > 0)
        throw new BadRequestError('invalid_grant', 'A resource grant takes no argument constraints.');
      if (input.tool === '' && input.match !== 'prefix')
        throw new BadRequestError(
          'invalid_grant',
          'A resource grant names a URI (or, as a prefix, its start).',
        );
    } else if (kind === 'prompt' && input.tool !== '*') {
      const prompt = await trx
        .selectFrom('connection_offerings')
        .select(['definition', 'digest'])
        .where('connection_id', '=', input.connectionId)
        .where('kind', '=', 'prompt')
        .where('key', '=', input.tool)
        .executeTakeFirst();
      if (!prompt) {
        throw new NotFoundError(
          'prompt_not_found',
          `The connection has no prompt "${input.tool}" (list its tools and prompts first).`,
        );
      }
      digest = prompt.digest;
      // A prompt's arguments are strings.
      const declared = (JSON.parse(prompt.definition) as { arguments?: Array<{ name: string }> }).arguments;
      args = Object.fromEntries((declared ?? []).map((a) => [a.name, 'String' as const]));
    } else if (kind === 'tool' && input.tool !== '*') {
      const tool = await trx
        .selectFrom('connection_tools')
        .selectAll()
        .where('connection_id', '=', input.connectionId)
        .where('name', '=', input.tool)
        .executeTakeFirst();
      if (!tool) {
        throw new NotFoundError(
          'tool_not_found',
          `The connection has no tool "${input.tool}" (list its tools first).`,
        );
      }
      digest = tool.digest;
      const schema = JSON.parse(tool.input_schema) as Record<string, unknown>;
      args = argTypes(schema);
      checkConstraintArguments(input.tool, schema, args, input.constraints);
    } else if (input.constraints.length > 0) {
      throw new BadRequestError('invalid_grant', `Argument constraints need a named ${kind}, not *.`);
    }
    if (input.notBefore !== undefined && input.notAfter !== undefined && input.notBefore >= input.notAfter) {
      throw new BadRequestError('invalid_grant', 'notBefore must come before notAfter.');
    }
    const row: GrantTable = {
      id: newId('grt'),
      org_id: ctx.scope.orgId,
      agent_id: agentId,
      connection_id: input.connectionId,
      tool: input.tool,
      kind,
      uri_match: kind === 'resource' ? (input.match ?? 'exact') : null,
      effect: input.effect,
      constraints: JSON.stringify(input.constraints),
      not_before: input.notBefore ?? null,
      not_after: input.notAfter ?? null,
      requires_approval: input.requiresApproval ? 1 : 0,
      tool_digest: digest,
      status: 'active',
      created_by: ctx.actor.id,
      created_at: new Date().toISOString(),
      revoked_by: null,
      revoked_at: null,
    };
    const grant = toGrant(row);
    validateGrants([grant], args);
    await trx.insertInto('grants').values(row).execute();
    await bumpGrantsVersion(trx, ctx.scope.orgId, agentId);
    await recordChange(trx, ctx, {
      action: 'grant.created',
      target: { type: 'agent', id: agentId },
      details: { grant: { ...grant, status: undefined } },
    });
    return grant;
  });
}

export async function listGrants(db: Db, ctx: OrgContext, agentId: string): Promise<GrantInfo[]> {
  await requireAgentRow(db, ctx, agentId);
  const rows = await db
    .selectFrom('grants')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .where('agent_id', '=', agentId)
    .orderBy('created_at')
    .execute();
  return rows.map(toGrant);
}

/** The agent's active grants: all that a decision weighs (the gate loads them when their version moves). */
export async function activeGrants(db: Db, scope: OrgScope, agentId: string): Promise<GrantInfo[]> {
  const rows = await db
    .selectFrom('grants')
    .selectAll()
    .where('org_id', '=', scope.orgId)
    .where('agent_id', '=', agentId)
    .where('status', '=', 'active')
    .execute();
  return rows.map(toGrant);
}

/** Whether the agent has a grant of this tool (or prompt) suspended (its definition changed): to explain a denial. */
export async function hasSuspendedGrant(
  db: Db,
  scope: OrgScope,
  agentId: string,
  connectionId: string,
  tool: string,
  kind: GrantKind = 'tool',
): Promise<boolean> {
  const row = await db
    .selectFrom('grants')
    .select('id')
    .where('org_id', '=', scope.orgId)
    .where('agent_id', '=', agentId)
    .where('connection_id', '=', connectionId)
    .where('kind', '=', kind)
    .where('tool', '=', tool)
    .where('status', '=', 'suspended')
    .executeTakeFirst();
  return row !== undefined;
}

export async function revokeGrant(
  db: Kysely<Database>,
  ctx: OrgContext,
  agentId: string,
  grantId: string,
): Promise<GrantInfo> {
  return db.transaction().execute(async (trx) => {
    await requireAgentRow(trx, ctx, agentId);
    const row = await trx
      .selectFrom('grants')
      .selectAll()
      .where('org_id', '=', ctx.scope.orgId)
      .where('agent_id', '=', agentId)
      .where('id', '=', grantId)
      .executeTakeFirst();
    if (!row) throw new NotFoundError('grant_not_found', 'No such grant for this agent.');
    if (row.status === 'revoked') return toGrant(row);
    const now = new Date().toISOString();
    await trx
      .updateTable('grants')
      .set({ status: 'revoked', revoked_by: ctx.actor.id, revoked_at: now })
      .where('id', '=', row.id)
      .execute();
    await bumpGrantsVersion(trx, ctx.scope.orgId, agentId);
    await recordChange(trx, ctx, {
      action: 'grant.revoked',
      target: { type: 'agent', id: agentId },
      details: {
        grantId: row.id,
        connectionId: row.connection_id,
        ...((row.kind ?? 'tool') === 'tool' ? {} : { kind: row.kind }),
        tool: row.tool,
      },
    });
    return { ...toGrant(row), status: 'revoked', revokedBy: ctx.actor.id, revokedAt: now };
  });
}

/**
 * Grants whose tool changed definition since they were granted are suspended (audited): a
 * server cannot swap a reviewed tool for another unnoticed. A grant pinned under an older digest
 * formula whose tool still matches under that formula is re-pinned to the current digest
 * (audited), not suspended. Called whenever a connection's tools are re-listed or re-scrubbed.
 */
export async function reconcileGrants(
  trx: Db,
  orgId: string,
  connectionId: string,
  tools: Map<string, VettedTool>,
  requestId: string | undefined,
): Promise<{ suspended: string[]; repinned: string[] }> {
  const rows = await trx
    .selectFrom('grants')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('connection_id', '=', connectionId)
    .where('status', '=', 'active')
    .where('kind', '=', 'tool')
    .where('tool', '!=', '*')
    .execute();
  const suspended: string[] = [];
  const repinned: string[] = [];
  const system = { orgId, actor: { type: 'system' as const, id: 'connection-monitor' }, requestId };
  for (const g of rows) {
    const tool = tools.get(g.tool);
    if (tool && tool.digest === g.tool_digest) continue;
    const pinned = g.tool_digest ?? '';
    if (tool && tool.digestUnder(digestVersion(pinned)) === pinned) {
      await trx.updateTable('grants').set({ tool_digest: tool.digest }).where('id', '=', g.id).execute();
      await recordAudit(trx, {
        ...system,
        action: 'grant.repinned',
        target: { type: 'agent', id: g.agent_id },
        details: {
          grantId: g.id,
          tool: g.tool,
          reason: `the digest formula moved from v${digestVersion(pinned)} to v${digestVersion(tool.digest)}; the definition it pinned is unchanged`,
          from: pinned,
          to: tool.digest,
        },
      });
      repinned.push(g.id);
      continue;
    }
    await trx.updateTable('grants').set({ status: 'suspended' }).where('id', '=', g.id).execute();
    await bumpGrantsVersion(trx, orgId, g.agent_id);
    await recordAudit(trx, {
      ...system,
      action: 'grant.suspended',
      target: { type: 'agent', id: g.agent_id },
      outcome: 'failure',
      details: {
        grantId: g.id,
        tool: g.tool,
        reason: tool ? 'the tool definition changed' : 'the tool disappeared',
        granted: g.tool_digest,
        now: tool?.digest ?? null,
      },
    });
    suspended.push(g.id);
  }
  return { suspended, repinned };
}

/**
 * Prompt grants whose prompt changed definition (or disappeared) since they were granted are
 * suspended (audited), as tool grants are. Called whenever a connection's offerings are re-listed.
 */
export async function reconcilePromptGrants(
  trx: Db,
  orgId: string,
  connectionId: string,
  prompts: Map<string, string>,
  requestId: string | undefined,
): Promise<string[]> {
  const rows = await trx
    .selectFrom('grants')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('connection_id', '=', connectionId)
    .where('status', '=', 'active')
    .where('kind', '=', 'prompt')
    .where('tool', '!=', '*')
    .execute();
  const suspended: string[] = [];
  for (const g of rows) {
    const now = prompts.get(g.tool);
    if (now === g.tool_digest) continue;
    await trx.updateTable('grants').set({ status: 'suspended' }).where('id', '=', g.id).execute();
    await bumpGrantsVersion(trx, orgId, g.agent_id);
    await recordAudit(trx, {
      orgId,
      actor: { type: 'system', id: 'connection-monitor' },
      requestId,
      action: 'grant.suspended',
      target: { type: 'agent', id: g.agent_id },
      outcome: 'failure',
      details: {
        grantId: g.id,
        prompt: g.tool,
        reason: now ? 'the prompt definition changed' : 'the prompt disappeared',
        granted: g.tool_digest,
        now: now ?? null,
      },
    });
    suspended.push(g.id);
  }
  return suspended;
}

/** What the agent may do with this call right now (a dry run of the gateway's decision). */
export async function checkCall(
  db: Db,
  ctx: OrgContext,
  agentId: string,
  call: {
    connectionId: string;
    action?: Action | undefined;
    tool: string;
    args: Record<string, unknown>;
    approved?: boolean | undefined;
  },
): Promise<Decision> {
  const grants = (await listGrants(db, ctx, agentId)).filter((g) => g.status === 'active');
  return decideOnce(grants, {
    agentId,
    ...call,
    now: Math.floor(Date.now() / 1000),
    approved: call.approved ?? false,
  });
}
