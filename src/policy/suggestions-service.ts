/**
 * Grants suggested from an agent's recent audited calls (allowed, approved or denied): the calls
 * are read from its org's audit trail, the tools from its connections, and `suggest.ts` proposes
 * the narrowest grants covering them. Nothing is granted: a person accepts a suggestion by saving
 * it through the grants API (audited as any grant).
 */
import { requireAgentRow } from '../agents/index.ts';
import { queryAudit } from '../audit/index.ts';
import { NotFoundError } from '../errors/index.ts';
import type { OrgContext } from '../identity/context.ts';
import type { Db } from '../store/index.ts';
import { argTypes } from './grants-service.ts';
import { type ObservedCall, type Suggestions, suggestGrants, type ToolShape } from './suggest.ts';

/** A call's records name it `<connection>/<tool>`; the id of a connection never has a `/`. */
function callOf(target: string, details: Record<string, unknown> | null): ObservedCall | null {
  const cut = target.indexOf('/');
  if (cut <= 0 || !details) return null;
  const args = details.args;
  return {
    connectionId: target.slice(0, cut),
    tool: target.slice(cut + 1),
    args: args && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, unknown>) : {},
  };
}

/** The agent's most recent tool calls on record (allowed or denied), newest first; erased ones are left out. */
export async function auditedCalls(
  db: Db,
  ctx: OrgContext,
  agentId: string,
  opts: { run?: string | undefined; limit: number },
): Promise<ObservedCall[]> {
  await requireAgentRow(db, ctx, agentId);
  const out: ObservedCall[] = [];
  let cursor: number | undefined;
  // Pages of the agent's call records until `limit` calls (its other records are skipped).
  while (out.length < opts.limit) {
    const page = await queryAudit(db, ctx.scope, {
      agent: agentId,
      action: 'tool.call.*',
      run: opts.run,
      cursor,
      limit: 500,
    });
    for (const e of page.events) {
      if (e.actor.type !== 'agent' || e.actor.id !== agentId || !e.target) continue;
      if (e.action !== 'tool.call.allowed' && e.action !== 'tool.call.denied') continue;
      const c = callOf(e.target.id, e.details);
      if (c) out.push({ ...c, refused: e.action === 'tool.call.denied' });
      if (out.length >= opts.limit) break;
    }
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  return out;
}

/** The listed tools of these connections in the org (those `hidden` from the caller left out). */
export async function toolShapes(
  db: Db,
  ctx: OrgContext,
  connectionIds: string[],
  hidden: Set<string>,
): Promise<ToolShape[]> {
  const ids = connectionIds.filter((id) => !hidden.has(id));
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('connection_tools')
    .select(['connection_id', 'name', 'input_schema'])
    .where('org_id', '=', ctx.scope.orgId)
    .where('connection_id', 'in', ids)
    .execute();
  return rows.map((r) => ({
    connectionId: r.connection_id,
    name: r.name,
    inputSchema: JSON.parse(r.input_schema) as Record<string, unknown>,
  }));
}

/**
 * Suggestions for these observed calls of the agent, against the org's listed tools. `strict`: a
 * connection not found (another org's, a private one of someone else) is 404, not skipped.
 */
export async function suggestionsFor(
  db: Db,
  ctx: OrgContext,
  agentId: string,
  calls: ObservedCall[],
  hidden: Set<string>,
  strict: boolean,
): Promise<Suggestions & { observed: number }> {
  await requireAgentRow(db, ctx, agentId);
  const named = [...new Set(calls.map((c) => c.connectionId))];
  const found = new Set(
    named.length === 0
      ? []
      : (
          await db
            .selectFrom('connections')
            .select('id')
            .where('org_id', '=', ctx.scope.orgId)
            .where('id', 'in', named)
            .execute()
        )
          .map((r) => r.id)
          .filter((id) => !hidden.has(id)),
  );
  // Calls given by the caller name only connections it can see; calls on record of one since
  // deleted (or hidden from the caller) are left out.
  if (strict && named.some((id) => !found.has(id)))
    throw new NotFoundError('connection_not_found', 'No connection with that id in this organization.');
  const visible = calls.filter((c) => found.has(c.connectionId));
  const tools = await toolShapes(db, ctx, [...found], hidden);
  return {
    ...suggestGrants(visible, tools, argTypes, await approvedTools(db, ctx, agentId, tools)),
    observed: visible.length,
  };
}

/**
 * The agent's tools (`connection/tool`) that an active grant lets run only with a person's
 * approval, a connection-wide grant (`*`) standing for each of the connection's listed `tools`.
 */
async function approvedTools(
  db: Db,
  ctx: OrgContext,
  agentId: string,
  tools: ToolShape[],
): Promise<Set<string>> {
  const rows = await db
    .selectFrom('grants')
    .select(['connection_id', 'tool'])
    .where('org_id', '=', ctx.scope.orgId)
    .where('agent_id', '=', agentId)
    .where('status', '=', 'active')
    .where('effect', '=', 'allow')
    .where('requires_approval', '=', 1)
    .where((eb) => eb.or([eb('kind', 'is', null), eb('kind', '=', 'tool')]))
    .execute();
  const wide = new Set(rows.filter((r) => r.tool === '*').map((r) => r.connection_id));
  return new Set([
    ...rows.filter((r) => r.tool !== '*').map((r) => `${r.connection_id}/${r.tool}`),
    ...tools.filter((t) => wide.has(t.connectionId)).map((t) => `${t.connectionId}/${t.name}`),
  ]);
}
