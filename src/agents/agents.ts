/**
 * Agents: each has its own identity (never its creator's rights), a scope deciding who may see
 * and talk to it, instructions, model settings, an optional output schema, and a state — stopping
 * it is the kill switch. Every change makes a new version with a before/after diff, audited.
 */
import type { Kysely } from 'kysely';
import { recordChange } from '../audit/index.ts';
import { type AgentLimits, limitsOf } from '../budgets/index.ts';
import { type AgentChecks, assertChecks, assertOutputSchema as assertValidSchema } from '../checks/index.ts';
import { BadRequestError, ForbiddenError, NotFoundError } from '../errors/index.ts';
import type { OrgContext } from '../identity/context.ts';
import { newId } from '../ids/index.ts';
import { type Database, type Db, orConflict } from '../store/index.ts';
import type { AgentTable } from '../store/schema.ts';

export type AgentScope = AgentTable['scope'];

export interface ModelSettings {
  provider: string;
  model: string;
  /** Vault id of the BYOK key to use. */
  secretId?: string | null | undefined;
  temperature?: number | undefined;
  maxOutputTokens?: number | undefined;
}

export interface Agent {
  id: string;
  name: string;
  description: string;
  scope: AgentScope;
  ownerId: string;
  teamId: string | null;
  instructions: string;
  model: ModelSettings;
  outputSchema: Record<string, unknown> | null;
  /** Rules on its answers and its tool calls' arguments, and how it streams; null for none. */
  checks: AgentChecks | null;
  /** Its limits and budgets (runs a minute, tool calls a run, tokens a day, spend); {} for none. */
  limits: AgentLimits;
  state: 'active' | 'stopped';
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface AgentInput {
  name: string;
  description?: string | undefined;
  scope: AgentScope;
  teamId?: string | null | undefined;
  instructions: string;
  model: ModelSettings;
  outputSchema?: Record<string, unknown> | null | undefined;
  checks?: AgentChecks | null | undefined;
  limits?: AgentLimits | null | undefined;
}

function toAgent(r: AgentTable): Agent {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    scope: r.scope,
    ownerId: r.owner_id,
    teamId: r.team_id,
    instructions: r.instructions,
    model: JSON.parse(r.model) as ModelSettings,
    outputSchema: r.output_schema ? (JSON.parse(r.output_schema) as Record<string, unknown>) : null,
    checks: r.checks ? (JSON.parse(r.checks) as AgentChecks) : null,
    limits: limitsOf(r.limits),
    state: r.state,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** What a version records: everything a reviewer needs to see what the agent was. */
function snapshot(a: Agent) {
  const { createdAt: _c, updatedAt: _u, version: _v, ...rest } = a;
  return rest;
}

/** An agent's limits and budgets are the org's to set: owners and admins, not the agent's owner. */
function assertMaySetLimits(ctx: OrgContext, changing: boolean): void {
  if (changing && ctx.role !== 'owner' && ctx.role !== 'admin')
    throw new ForbiddenError(
      'limits_forbidden',
      "Only the organization's owners and admins set an agent's limits and budgets.",
    );
}

/** Limits as stored: only those set, or null for none. */
function storedLimits(l: AgentLimits | null | undefined): string | null {
  const set = Object.fromEntries(Object.entries(l ?? {}).filter(([, v]) => v !== null && v !== undefined));
  return Object.keys(set).length ? JSON.stringify(set) : null;
}

/** Fields whose value changed, as `{field: {before, after}}`. */
export function diff(before: Record<string, unknown>, after: Record<string, unknown>) {
  const out: Record<string, { before: unknown; after: unknown }> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k]))
      out[k] = { before: before[k] ?? null, after: after[k] ?? null };
  }
  return out;
}

/** An output contract and checks that can be applied, or a 400 saying what is wrong. */
async function assertContract(input: Partial<AgentInput>): Promise<void> {
  assertOutputSchema(input.outputSchema);
  await assertChecks(input.checks);
}

function assertOutputSchema(s: Record<string, unknown> | null | undefined): void {
  if (!s) return;
  const ok =
    typeof s.type === 'string' ||
    Array.isArray(s.type) ||
    s.$ref !== undefined ||
    s.oneOf !== undefined ||
    s.anyOf !== undefined;
  if (!ok)
    throw new BadRequestError(
      'invalid_output_schema',
      'The output schema must be a JSON Schema (with a "type", "$ref", "oneOf" or "anyOf").',
    );
  assertValidSchema(s);
}

async function teamIdsOf(db: Db, ctx: OrgContext): Promise<string[]> {
  if (!ctx.userId) return [];
  const rows = await db
    .selectFrom('team_members')
    .select('team_id')
    .where('org_id', '=', ctx.scope.orgId)
    .where('user_id', '=', ctx.userId)
    .execute();
  return rows.map((r) => r.team_id);
}

/** Owners, admins and auditors see every agent; others see theirs, their teams' and the org's. */
async function canSee(db: Db, ctx: OrgContext, a: AgentTable): Promise<boolean> {
  if (ctx.role !== 'member') return true;
  if (a.scope === 'organization' || a.owner_id === ctx.userId) return true;
  return a.scope === 'team' && a.team_id !== null && (await teamIdsOf(db, ctx)).includes(a.team_id);
}

/** Owners and admins change any agent; members only agents they own. */
function assertCanChange(ctx: OrgContext, a: AgentTable): void {
  if (ctx.role === 'owner' || ctx.role === 'admin') return;
  if (ctx.role === 'member' && a.owner_id === ctx.userId) return;
  throw new ForbiddenError('not_your_agent', 'Only the agent’s owner or an admin can change it.');
}

async function requireRow(db: Db, ctx: OrgContext, id: string): Promise<AgentTable> {
  const row = await db
    .selectFrom('agents')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row || !(await canSee(db, ctx, row)))
    throw new NotFoundError('agent_not_found', 'No agent with that id that you can see.');
  return row;
}

export async function listAgents(db: Db, ctx: OrgContext): Promise<Agent[]> {
  const rows = await db
    .selectFrom('agents')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .orderBy('name')
    .execute();
  const out: Agent[] = [];
  for (const r of rows) if (await canSee(db, ctx, r)) out.push(toAgent(r));
  return out;
}

export async function getAgent(db: Db, ctx: OrgContext, id: string): Promise<Agent> {
  return toAgent(await requireRow(db, ctx, id));
}

async function assertTeam(
  db: Db,
  ctx: OrgContext,
  scope: AgentScope,
  teamId: string | null | undefined,
): Promise<string | null> {
  if (scope !== 'team') {
    if (teamId) throw new BadRequestError('team_not_expected', 'Only a team-scoped agent names a team.');
    return null;
  }
  if (!teamId) throw new BadRequestError('team_required', 'A team-scoped agent needs a teamId.');
  const team = await db
    .selectFrom('teams')
    .select('id')
    .where('org_id', '=', ctx.scope.orgId)
    .where('id', '=', teamId)
    .executeTakeFirst();
  if (!team) throw new NotFoundError('team_not_found', 'No team with that id in this organization.');
  if (ctx.role === 'member' && !(await teamIdsOf(db, ctx)).includes(teamId)) {
    throw new ForbiddenError('not_in_team', 'You can only scope an agent to a team you are in.');
  }
  return teamId;
}

/** The BYOK key an agent names must be a secret of its own org. */
async function assertModelSecret(db: Db, ctx: OrgContext, model: ModelSettings | undefined): Promise<void> {
  if (!model?.secretId) return;
  const found = await db
    .selectFrom('secrets')
    .select('id')
    .where('org_id', '=', ctx.scope.orgId)
    .where('id', '=', model.secretId)
    .executeTakeFirst();
  if (!found) throw new NotFoundError('secret_not_found', 'No secret with that id in this organization.');
}

async function writeVersion(trx: Db, ctx: OrgContext, a: Agent): Promise<void> {
  await trx
    .insertInto('agent_versions')
    .values({
      org_id: ctx.scope.orgId,
      agent_id: a.id,
      version: a.version,
      snapshot: JSON.stringify(snapshot(a)),
      changed_by: ctx.actor.id,
      changed_at: a.updatedAt,
    })
    .execute();
}

export async function createAgent(db: Kysely<Database>, ctx: OrgContext, input: AgentInput): Promise<Agent> {
  if (!ctx.userId && ctx.role !== 'owner' && ctx.role !== 'admin') throw new ForbiddenError();
  await assertContract(input);
  assertMaySetLimits(ctx, storedLimits(input.limits) !== null);
  return db.transaction().execute(async (trx) => {
    const teamId = await assertTeam(trx, ctx, input.scope, input.teamId);
    await assertModelSecret(trx, ctx, input.model);
    const now = new Date().toISOString();
    const row: AgentTable = {
      id: newId('agt'),
      org_id: ctx.scope.orgId,
      name: input.name.trim(),
      description: input.description?.trim() ?? '',
      scope: input.scope,
      owner_id: ctx.userId ?? ctx.actor.id,
      team_id: teamId,
      instructions: input.instructions,
      model: JSON.stringify(input.model),
      output_schema: input.outputSchema ? JSON.stringify(input.outputSchema) : null,
      checks: input.checks ? JSON.stringify(input.checks) : null,
      limits: storedLimits(input.limits),
      state: 'active',
      version: 1,
      grants_version: 0,
      created_at: now,
      updated_at: now,
    };
    await orConflict(
      trx.insertInto('agents').values(row).execute(),
      'agent_exists',
      `An agent named "${row.name}" already exists.`,
    );
    const agent = toAgent(row);
    await writeVersion(trx, ctx, agent);
    await recordChange(trx, ctx, {
      action: 'agent.created',
      target: { type: 'agent', id: agent.id },
      details: { after: snapshot(agent) },
    });
    return agent;
  });
}

export async function updateAgent(
  db: Kysely<Database>,
  ctx: OrgContext,
  id: string,
  patch: Partial<AgentInput>,
): Promise<Agent> {
  await assertContract(patch);
  return db.transaction().execute(async (trx) => {
    const row = await requireRow(trx, ctx, id);
    assertCanChange(ctx, row);
    const before = toAgent(row);
    const scope = patch.scope ?? before.scope;
    // A team agent keeps its team unless told otherwise; leaving team scope drops it.
    const wantedTeam = patch.teamId !== undefined ? patch.teamId : scope === 'team' ? before.teamId : null;
    const teamId =
      patch.scope !== undefined || patch.teamId !== undefined
        ? await assertTeam(trx, ctx, scope, wantedTeam)
        : before.teamId;
    await assertModelSecret(trx, ctx, patch.model);
    const after: Agent = {
      ...before,
      name: patch.name?.trim() ?? before.name,
      description: patch.description?.trim() ?? before.description,
      scope,
      teamId,
      instructions: patch.instructions ?? before.instructions,
      model: patch.model ?? before.model,
      outputSchema: patch.outputSchema === undefined ? before.outputSchema : patch.outputSchema,
      checks: patch.checks === undefined ? before.checks : patch.checks,
      limits: patch.limits === undefined ? before.limits : (patch.limits ?? {}),
      version: before.version + 1,
      updatedAt: new Date().toISOString(),
    };
    const changes = diff(snapshot(before), snapshot(after));
    // Lifting or removing a limit is the org's call too, not only setting one.
    assertMaySetLimits(ctx, changes.limits !== undefined);
    if (Object.keys(changes).length === 0) return before;
    await orConflict(
      trx
        .updateTable('agents')
        .set({
          name: after.name,
          description: after.description,
          scope: after.scope,
          team_id: after.teamId,
          instructions: after.instructions,
          model: JSON.stringify(after.model),
          output_schema: after.outputSchema ? JSON.stringify(after.outputSchema) : null,
          checks: after.checks ? JSON.stringify(after.checks) : null,
          limits: storedLimits(after.limits),
          version: after.version,
          updated_at: after.updatedAt,
        })
        .where('org_id', '=', ctx.scope.orgId)
        .where('id', '=', id)
        .execute(),
      'agent_exists',
      `An agent named "${after.name}" already exists.`,
    );
    await writeVersion(trx, ctx, after);
    await recordChange(trx, ctx, {
      action: 'agent.updated',
      target: { type: 'agent', id },
      details: { version: after.version, changes },
    });
    return after;
  });
}

/**
 * The kill switch: `stopped` from the moment this commits (the gateway checks it on every call).
 * `onChange` runs once the change is allowed and about to commit (the gateway brakes at once).
 */
export async function setAgentState(
  db: Kysely<Database>,
  ctx: OrgContext,
  id: string,
  state: 'active' | 'stopped',
  /** Runs in the change's transaction once it is allowed (the kill switch's brake, and what a stop ends); what it returns is recorded with it. */
  onChange?: (trx: Db) => Promise<Record<string, unknown>>,
): Promise<Agent> {
  return db.transaction().execute(async (trx) => {
    const row = await requireRow(trx, ctx, id);
    assertCanChange(ctx, row);
    if (row.state === state) return toAgent(row);
    const ended = (await onChange?.(trx)) ?? {};
    const now = new Date().toISOString();
    await trx
      .updateTable('agents')
      .set({ state, updated_at: now })
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', id)
      .execute();
    await recordChange(trx, ctx, {
      action: state === 'stopped' ? 'agent.stopped' : 'agent.resumed',
      target: { type: 'agent', id },
      details: { before: { state: row.state }, after: { state }, ...ended },
    });
    return { ...toAgent(row), state, updatedAt: now };
  });
}

export async function deleteAgent(db: Kysely<Database>, ctx: OrgContext, id: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await requireRow(trx, ctx, id);
    assertCanChange(ctx, row);
    await deleteAgentRow(trx, ctx, row);
  });
}

/** Deletes an agent the caller was allowed to, in their transaction; `why` says so when it is not theirs to ask. */
export async function deleteAgentRow(trx: Db, ctx: OrgContext, row: AgentTable, why?: string): Promise<void> {
  await trx.deleteFrom('agents').where('org_id', '=', ctx.scope.orgId).where('id', '=', row.id).execute();
  await recordChange(trx, ctx, {
    action: 'agent.deleted',
    target: { type: 'agent', id: row.id },
    details: { before: snapshot(toAgent(row)), ...(why ? { why } : {}) },
  });
}

/**
 * Hands an agent to a new owner, stopped, in the caller's transaction (its owner left the org):
 * a new version, audited with the diff. The new owner resumes it when they have looked at it.
 */
export async function handOverAgentRow(
  trx: Db,
  ctx: OrgContext,
  row: AgentTable,
  ownerId: string,
  why: string,
): Promise<void> {
  const before = toAgent(row);
  const after: Agent = {
    ...before,
    ownerId,
    state: 'stopped',
    version: before.version + 1,
    updatedAt: new Date().toISOString(),
  };
  await trx
    .updateTable('agents')
    .set({ owner_id: ownerId, state: 'stopped', version: after.version, updated_at: after.updatedAt })
    .where('org_id', '=', ctx.scope.orgId)
    .where('id', '=', row.id)
    .execute();
  await writeVersion(trx, ctx, after);
  await recordChange(trx, ctx, {
    action: 'agent.updated',
    target: { type: 'agent', id: row.id },
    details: { version: after.version, changes: diff(snapshot(before), snapshot(after)), why },
  });
}

export async function listAgentVersions(db: Db, ctx: OrgContext, id: string) {
  await requireRow(db, ctx, id);
  const rows = await db
    .selectFrom('agent_versions')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .where('agent_id', '=', id)
    .orderBy('version', 'desc')
    .execute();
  return rows.map((r) => ({
    version: r.version,
    changedBy: r.changed_by,
    changedAt: r.changed_at,
    snapshot: JSON.parse(r.snapshot) as Record<string, unknown>,
  }));
}

export { assertCanChange as assertCanChangeAgent, requireRow as requireAgentRow };
