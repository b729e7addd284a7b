/**
 * Agent tokens: how an agent running elsewhere (Claude Code, Cursor, any MCP client) proves it is
 * this agent to Paddock's MCP endpoint. Shown once, stored as a digest, expiring, revocable.
 */
import type { Kysely } from 'kysely';
import { recordChange } from '../audit/index.ts';
import { BadRequestError, NotFoundError, UnauthenticatedError } from '../errors/index.ts';
import type { OrgContext } from '../identity/context.ts';
import { hashSecret, newSecret } from '../identity/credentials.ts';
import { holdMembership } from '../identity/people.ts';
import { newId } from '../ids/index.ts';
import { committed, type Database, type Db, precompiled } from '../store/index.ts';
import type { AgentTokenTable } from '../store/schema.ts';
import { assertCanChangeAgent, requireAgentRow } from './agents.ts';
import { type AgentStanding, STANDING_COLUMNS, toStanding } from './standing.ts';

export interface AgentTokenInfo {
  id: string;
  agentId: string;
  name: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  /**
   * The MCP client it was issued to through OAuth sign-in, and until when the client may renew
   * it (its access token lasts an hour at a time); null for a token made by hand.
   */
  client: { id: string; name: string; renewableUntil: string } | null;
}

type TokenRow = AgentTokenTable & {
  client_id?: string | null;
  client_name?: string | null;
  client_until?: string | null;
};

const toInfo = (r: TokenRow): AgentTokenInfo => ({
  id: r.id,
  agentId: r.agent_id,
  name: r.name,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  client:
    r.client_id && r.client_name && r.client_until
      ? { id: r.client_id, name: r.client_name, renewableUntil: r.client_until }
      : null,
});

/** Agent tokens with the OAuth client each was issued to, if any. */
function tokensWithClients(db: Db, orgId: string, agentId: string) {
  return db
    .selectFrom('agent_tokens as t')
    .leftJoin('oauth_grants as g', 'g.token_id', 't.id')
    .leftJoin('oauth_clients as c', 'c.id', 'g.client_id')
    .selectAll('t')
    .select(['c.id as client_id', 'c.name as client_name', 'g.refresh_expires_at as client_until'])
    .where('t.org_id', '=', orgId)
    .where('t.agent_id', '=', agentId);
}

export async function createAgentToken(
  db: Kysely<Database>,
  ctx: OrgContext,
  agentId: string,
  input: { name: string; expiresInDays: number | null },
): Promise<{ token: string; info: AgentTokenInfo }> {
  return db.transaction().execute(async (trx) => {
    // Held until commit: a token issued while its issuer is being removed is refused or revoked.
    await holdMembership(trx, ctx, ctx.scope);
    const agent = await requireAgentRow(trx, ctx, agentId);
    assertCanChangeAgent(ctx, agent);
    const max = ctx.org.settings.maxTokenDays;
    if (max !== null && (input.expiresInDays === null || input.expiresInDays > max)) {
      throw new BadRequestError('expiry_too_long', `This organization allows tokens of at most ${max} days.`);
    }
    const token = newSecret('pda');
    const now = new Date();
    const row: AgentTokenTable = {
      id: newId('atk'),
      org_id: ctx.scope.orgId,
      agent_id: agentId,
      name: input.name.trim(),
      token_hash: hashSecret(token),
      created_by: ctx.actor.id,
      created_at: now.toISOString(),
      expires_at:
        input.expiresInDays === null
          ? null
          : new Date(now.getTime() + input.expiresInDays * 86_400_000).toISOString(),
      revoked_at: null,
    };
    await trx.insertInto('agent_tokens').values(row).execute();
    await recordChange(trx, ctx, {
      action: 'agent.token.created',
      target: { type: 'agent', id: agentId },
      details: { tokenId: row.id, name: row.name, expiresAt: row.expires_at },
    });
    return { token, info: toInfo(row) };
  });
}

export async function listAgentTokens(db: Db, ctx: OrgContext, agentId: string): Promise<AgentTokenInfo[]> {
  await requireAgentRow(db, ctx, agentId);
  const rows = await tokensWithClients(db, ctx.scope.orgId, agentId)
    .orderBy('t.created_at', 'desc')
    .execute();
  return rows.map(toInfo);
}

export async function revokeAgentToken(
  db: Kysely<Database>,
  ctx: OrgContext,
  agentId: string,
  tokenId: string,
): Promise<AgentTokenInfo> {
  return db.transaction().execute(async (trx) => {
    const agent = await requireAgentRow(trx, ctx, agentId);
    assertCanChangeAgent(ctx, agent);
    const row = await tokensWithClients(trx, ctx.scope.orgId, agentId)
      .where('t.id', '=', tokenId)
      .executeTakeFirst();
    if (!row) throw new NotFoundError('token_not_found', 'No such token for this agent.');
    if (row.revoked_at) return toInfo(row);
    const now = new Date().toISOString();
    await trx.updateTable('agent_tokens').set({ revoked_at: now }).where('id', '=', row.id).execute();
    await recordChange(trx, ctx, {
      action: 'agent.token.revoked',
      target: { type: 'agent', id: agentId },
      details: { tokenId: row.id, name: row.name },
    });
    return { ...toInfo(row), revokedAt: now };
  });
}

/** Who an agent token is, as its one authentication read finds it. */
export interface AuthenticatedAgent {
  agentId: string;
  orgId: string;
  /** The org's slug: a path naming another org reads as missing. */
  orgSlug: string;
  tokenId: string;
  /** Who issued the token (a person, or a service token): answerable for its calls. */
  createdBy: string;
  /** The agent's standing, read with the token: the gate needs no read of its own. */
  standing: AgentStanding;
}

/** An agent token's row with its agent's standing, by the token's hash (read on every MCP request: compiled once). */
const tokenWithStanding = precompiled((db: Db, tokenHash: string) =>
  db
    .selectFrom('agent_tokens as t')
    .innerJoin('agents as a', 'a.id', 't.agent_id')
    .innerJoin('orgs as o', 'o.id', 't.org_id')
    .select(['t.id', 't.agent_id', 't.org_id', 't.created_by', 't.revoked_at', 't.expires_at', 'o.slug'])
    .select(STANDING_COLUMNS)
    .where('t.token_hash', '=', tokenHash),
);

type TokenWithStanding = Awaited<ReturnType<typeof tokenWithStanding>>[number];

/** A token's row as read, with the store's commit mark before the read, and when. */
interface ReadToken {
  row: TokenWithStanding;
  mark: number;
  readAt: number;
}

/** How long a token's row read on the embedded store serves while nothing is committed here: another process's change (a CLI command) is seen within this. */
const KEEP_READ_MS = 1000;
const KEEP_AT_MOST = 10_000;
const readTokens = new WeakMap<Db, Map<string, ReadToken>>();

/**
 * A live token's row by its hash. On the embedded store a row read lately serves again while no
 * commit was made since (`committed`: a revocation, a stop, a person's removal — this process's
 * every change is seen at once) and for at most `KEEP_READ_MS`: the read is a fifth of what a
 * governed call's gate costs, and every MCP request makes it. PostgreSQL, written by every
 * replica, is read every time.
 */
async function readToken(db: Db, tokenHash: string): Promise<ReadToken | undefined> {
  const readAt = performance.now();
  // Taken before the read: a commit made while it runs makes what it read stale at once.
  const mark = committed(db);
  if (mark === undefined) {
    const [row] = await tokenWithStanding(db, tokenHash);
    return row && { row, mark: 0, readAt };
  }
  let kept = readTokens.get(db);
  if (!kept) {
    kept = new Map();
    readTokens.set(db, kept);
  }
  const hit = kept.get(tokenHash);
  if (hit && hit.mark === mark && readAt - hit.readAt < KEEP_READ_MS) return hit;
  const [row] = await tokenWithStanding(db, tokenHash);
  // Only live tokens are kept (none for a made-up one: no memory for whoever guesses).
  if (!row || row.revoked_at) {
    kept.delete(tokenHash);
    return row && { row, mark, readAt };
  }
  if (kept.size >= KEEP_AT_MOST) kept.clear();
  const read = { row, mark, readAt };
  kept.set(tokenHash, read);
  return read;
}

/** Who an agent token is: its agent, org and the agent's standing (one read), or a clear refusal. */
export async function authenticateAgentToken(db: Db, secret: string): Promise<AuthenticatedAgent> {
  const read = await readToken(db, hashSecret(secret));
  if (!read) throw new UnauthenticatedError('invalid_token', 'The agent token is not valid.');
  const { row, readAt } = read;
  if (row.revoked_at) throw new UnauthenticatedError('token_revoked', 'The agent token was revoked.');
  if (row.expires_at && row.expires_at <= new Date().toISOString())
    throw new UnauthenticatedError('token_expired', 'The agent token has expired.');
  return {
    agentId: row.agent_id,
    orgId: row.org_id,
    orgSlug: row.slug,
    tokenId: row.id,
    createdBy: row.created_by,
    // Stamped with its read's moment: a stop since then still ends the call (`KillRegistry.hold`).
    standing: toStanding(row, readAt),
  };
}

/** Of these agent tokens (of any org: a replica catching up on what it holds), the live ones. */
export async function liveAgentTokenIds(db: Db, tokenIds: string[]): Promise<Set<string>> {
  if (tokenIds.length === 0) return new Set();
  const now = new Date().toISOString();
  const rows = await db
    .selectFrom('agent_tokens')
    .select('id')
    .where('id', 'in', tokenIds)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
  return new Set(rows.map((r) => r.id));
}
