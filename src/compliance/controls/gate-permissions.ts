/**
 * PAD-GATE-01 — default-deny scoped tool permissions. An agent calls a tool only under a grant
 * (Cedar policies; everything else is denied). Evidence: every agent's effective permissions,
 * grant and revocation history, tool calls by outcome, and a check over the log that every call
 * the gate allowed in the period was covered by an allow grant in force at that moment.
 */
import { effectivePermissions } from '../../policy/permissions.ts';
import {
  type CollectorContext,
  count,
  type Draft,
  dataOf,
  figureDraft,
  type PaddockControl,
  some,
  stateDraft,
} from './context.ts';

interface Coverage {
  checked: number;
  uncovered: Array<{ index: number; time: string; agent: string; tool: string }>;
  uncoveredCount: number;
  /** Calls of agents or connections deleted since: their grants went with them. */
  unverifiable: number;
}

interface Permissions {
  agents: Array<{ id: string; name: string; state: string; tools: number }>;
  wildcardGrants: Array<{ grant: string; agent: string; connection: string }>;
  toolsGranted: number;
}

async function permissions(ctx: CollectorContext): Promise<Draft> {
  const agents = await ctx.db
    .selectFrom('agents')
    .select(['id', 'name', 'state', 'scope'])
    .where('org_id', '=', ctx.orgId)
    .orderBy('id')
    .execute();
  const out = [];
  let toolsGranted = 0;
  for (const a of agents) {
    const perms = await effectivePermissions(ctx.db, ctx.orgId, a.id);
    const tools = perms
      .filter((p) => p.access !== 'denied')
      .map((p) => ({
        connection: p.connectionId,
        tool: p.tool.name,
        access: p.access,
        needsApproval: p.needsApproval,
        conditions: p.conditions,
        grants: p.grants,
      }));
    toolsGranted += tools.length;
    out.push({
      id: a.id,
      name: a.name,
      state: a.state,
      scope: a.scope,
      tools,
      suspended: perms.flatMap((p) => p.suspended),
    });
  }
  const wildcards = await ctx.db
    .selectFrom('grants')
    .select(['id', 'agent_id', 'connection_id'])
    .where('org_id', '=', ctx.orgId)
    .where('kind', '=', 'tool')
    .where('tool', '=', '*')
    .where('effect', '=', 'allow')
    .where('status', '=', 'active')
    .orderBy('id')
    .execute();
  return stateDraft('agents.permissions', {
    agents: out,
    toolsGranted,
    wildcardGrants: wildcards.map((w) => ({ grant: w.id, agent: w.agent_id, connection: w.connection_id })),
  });
}

async function history(ctx: CollectorContext): Promise<Draft> {
  const rows = await ctx.db
    .selectFrom('grants')
    .select([
      'id',
      'agent_id',
      'connection_id',
      'tool',
      'effect',
      'requires_approval',
      'created_by',
      'created_at',
      'revoked_by',
      'revoked_at',
      'status',
    ])
    .where('org_id', '=', ctx.orgId)
    .where((eb) => eb.or([eb('created_at', '>=', ctx.period.from), eb('revoked_at', '>=', ctx.period.from)]))
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return figureDraft(
    ctx,
    'grants.history',
    { name: 'grant changes by action', where: { prefix: 'grant.' }, by: 'action' },
    {
      grants: rows.map((r) => ({
        id: r.id,
        agent: r.agent_id,
        connection: r.connection_id,
        tool: r.tool,
        effect: r.effect,
        requiresApproval: r.requires_approval === 1,
        status: r.status,
        grantedBy: r.created_by,
        grantedAt: r.created_at,
        revokedBy: r.revoked_by,
        revokedAt: r.revoked_at,
      })),
    },
  );
}

/** Every `tool.call.allowed` in the slice against the allow grants in force at its time. */
async function coverage(ctx: CollectorContext): Promise<Draft> {
  const grants = await ctx.db
    .selectFrom('grants')
    .select(['agent_id', 'connection_id', 'tool', 'created_at', 'revoked_at'])
    .where('org_id', '=', ctx.orgId)
    .where('kind', '=', 'tool')
    .where('effect', '=', 'allow')
    .execute();
  const agents = new Set(
    (await ctx.db.selectFrom('agents').select('id').where('org_id', '=', ctx.orgId).execute()).map(
      (a) => a.id,
    ),
  );
  const connections = new Set(
    (await ctx.db.selectFrom('connections').select('id').where('org_id', '=', ctx.orgId).execute()).map(
      (c) => c.id,
    ),
  );
  const byAgent = new Map<string, typeof grants>();
  for (const g of grants) byAgent.set(g.agent_id, [...(byAgent.get(g.agent_id) ?? []), g]);
  const out: Coverage = { checked: 0, uncovered: [], uncoveredCount: 0, unverifiable: 0 };
  for (const e of ctx.log.entries()) {
    if (e.action !== 'tool.call.allowed' || e.actor.type !== 'agent' || e.target?.type !== 'tool') continue;
    const slash = e.target.id.indexOf('/');
    const connection = e.target.id.slice(0, slash);
    const tool = e.target.id.slice(slash + 1);
    if (!agents.has(e.actor.id) || !connections.has(connection)) {
      out.unverifiable++;
      continue;
    }
    out.checked++;
    const covered = (byAgent.get(e.actor.id) ?? []).some(
      (g) =>
        g.connection_id === connection &&
        (g.tool === tool || g.tool === '*') &&
        g.created_at <= e.time &&
        (g.revoked_at === null || e.time < g.revoked_at),
    );
    if (covered) continue;
    out.uncoveredCount++;
    if (out.uncovered.length < 50)
      out.uncovered.push({ index: e.index, time: e.time, agent: e.actor.id, tool: e.target.id });
  }
  return { kind: 'tool_calls.coverage', data: out, fromLog: true };
}

export const gatePermissions: PaddockControl = {
  id: 'PAD-GATE-01',
  title: 'Default-deny scoped tool permissions',
  description:
    'An agent can call a tool only when a grant allows that tool (with its argument constraints and time window); every other call is refused by the gate and recorded. Grants and revocations are recorded with who and when.',
  criteria: ['CC5.2', 'CC6.1', 'CC6.3'],
  async collect(ctx) {
    return [
      await permissions(ctx),
      await history(ctx),
      figureDraft(ctx, 'tool_calls.by_action', {
        name: 'tool calls by decision and result',
        where: { prefix: 'tool.call.' },
        by: 'action',
      }),
      await coverage(ctx),
    ];
  },
  test(evidence) {
    const perms = dataOf<Permissions>(evidence, 'agents.permissions');
    const cov = dataOf<Coverage>(evidence, 'tool_calls.coverage');
    const calls = (dataOf<{ value: Record<string, number> }>(evidence, 'tool_calls.by_action')?.value ??
      {}) as Record<string, number>;
    if (!perms || !cov) return { status: 'fail', reason: 'The permissions evidence is missing.' };
    if (cov.uncoveredCount > 0) {
      const first = cov.uncovered[0]!;
      return {
        status: 'fail',
        reason: `${count(cov.uncoveredCount, 'allowed tool call')} had no allow grant in force at the time (first: entry #${first.index}, ${first.agent} calling ${first.tool}).`,
      };
    }
    const summary = `${count(perms.agents.length, 'agent')}, ${count(perms.toolsGranted, 'tool')} granted, every other tool denied by default; ${count(cov.checked, 'allowed call')} in the period, each covered by a grant, ${count(calls['tool.call.denied'] ?? 0, 'call')} denied`;
    if (perms.wildcardGrants.length > 0) {
      return {
        status: 'warning',
        reason: `${count(perms.wildcardGrants.length, 'grant')} allow every tool of a connection (*): ${some(perms.wildcardGrants.map((w) => `${w.agent} on ${w.connection}`))}. ${summary}.`,
      };
    }
    return { status: 'pass', reason: `${summary}.` };
  },
};
