/**
 * What removing a person means for agents: the agent tokens they issued are revoked (the MCP
 * endpoint refuses them from the commit on), and their private agents are stopped and handed to
 * an owner or admin, or deleted. Agent tokens made with a service token the person made are
 * listed for the remover, who keeps or revokes them.
 */
import type { OrgContext } from '../identity/context.ts';
import type { OrgScope } from '../identity/scope.ts';
import type { Db } from '../store/index.ts';
import { deleteAgentRow, handOverAgentRow } from './agents.ts';

/** A live agent token, with the agent it opens. */
export interface IssuedAgentToken {
  id: string;
  name: string;
  agentId: string;
  agentName: string;
  /** Who issued it: a person, or a service token (`tok_…`). */
  createdBy: string;
  expiresAt: string | null;
}

export interface PrivateAgent {
  id: string;
  name: string;
  state: 'active' | 'stopped';
}

function liveAgentTokens(db: Db, scope: OrgScope, now: string) {
  return (
    db
      .selectFrom('agent_tokens as t')
      .innerJoin('agents as a', 'a.id', 't.agent_id')
      // An OAuth client's token lives on while its refresh token does, even between access tokens.
      .leftJoin('oauth_grants as g', 'g.token_id', 't.id')
      .select(['t.id', 't.name', 't.agent_id', 'a.name as agent_name', 't.created_by', 't.expires_at'])
      .where('t.org_id', '=', scope.orgId)
      .where('t.revoked_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb('t.expires_at', 'is', null),
          eb('t.expires_at', '>', now),
          eb('g.refresh_expires_at', '>', now),
        ]),
      )
  );
}

/** The live agent tokens issued by any of `issuers` (a person's id, service token ids). */
export async function agentTokensIssuedBy(
  db: Db,
  scope: OrgScope,
  issuers: string[],
): Promise<IssuedAgentToken[]> {
  if (issuers.length === 0) return [];
  const rows = await liveAgentTokens(db, scope, new Date().toISOString())
    .where('t.created_by', 'in', issuers)
    .orderBy('a.name')
    .orderBy('t.name')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    agentId: r.agent_id,
    agentName: r.agent_name,
    createdBy: r.created_by,
    expiresAt: r.expires_at,
  }));
}

/**
 * Revokes, in the caller's transaction, the live agent tokens that a person issued, or that are
 * among `ids`; returns the ids revoked. The change is recorded by the caller (`person.removed`).
 */
export async function revokeAgentTokens(
  trx: Db,
  scope: OrgScope,
  which: { issuedBy: string } | { ids: string[] },
): Promise<string[]> {
  const now = new Date().toISOString();
  let q = liveAgentTokens(trx, scope, now);
  if ('issuedBy' in which) q = q.where('t.created_by', '=', which.issuedBy);
  else if (which.ids.length === 0) return [];
  else q = q.where('t.id', 'in', which.ids);
  const ids = (await q.execute()).map((r) => r.id);
  if (ids.length === 0) return [];
  await trx
    .updateTable('agent_tokens')
    .set({ revoked_at: now })
    .where('org_id', '=', scope.orgId)
    .where('id', 'in', ids)
    .execute();
  return ids;
}

function privateAgentRows(db: Db, scope: OrgScope, userId: string) {
  return db
    .selectFrom('agents')
    .selectAll()
    .where('org_id', '=', scope.orgId)
    .where('scope', '=', 'private')
    .where('owner_id', '=', userId)
    .orderBy('name');
}

export async function privateAgentsOf(db: Db, scope: OrgScope, userId: string): Promise<PrivateAgent[]> {
  const rows = await privateAgentRows(db, scope, userId).execute();
  return rows.map((r) => ({ id: r.id, name: r.name, state: r.state }));
}

/**
 * The person's private agents, stopped and handed to `to`, or deleted, in the caller's
 * transaction (each audited on its own too); returns their ids.
 */
export async function settlePrivateAgents(
  trx: Db,
  ctx: OrgContext,
  userId: string,
  choice: { action: 'transfer'; to: string } | { action: 'delete' },
): Promise<string[]> {
  const rows = await privateAgentRows(trx, ctx.scope, userId).execute();
  const why = `its owner ${userId} was removed from the organization`;
  for (const row of rows) {
    if (choice.action === 'transfer') await handOverAgentRow(trx, ctx, row, choice.to, why);
    else await deleteAgentRow(trx, ctx, row, why);
  }
  return rows.map((r) => r.id);
}
