/**
 * Agent tokens issued to an MCP client through OAuth sign-in: the same agent tokens as those
 * pasted by hand (the same row, digest, checks on `/mcp/{org}`, listing and revocation), issued
 * by the person who consented and bound to them, short-lived, renewed with a refresh token that
 * is rotated on every use. Who may hold one is the rule for issuing any agent token: the
 * `agents.write` permission on an agent one may change (owners and admins: any agent; members:
 * agents they own), so signing in through a client gives no one more than the token page does.
 */
import type { Kysely } from 'kysely';
import { recordChange } from '../audit/index.ts';
import { ForbiddenError, PaddockError, UnauthenticatedError } from '../errors/index.ts';
import { personAccess } from '../identity/access.ts';
import type { OrgContext } from '../identity/context.ts';
import { hashSecret, newSecret } from '../identity/credentials.ts';
import { holdMembership } from '../identity/people.ts';
import { can } from '../identity/roles.ts';
import { trustedScope } from '../identity/scope.ts';
import { newId } from '../ids/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { AgentTable } from '../store/schema.ts';
import { assertCanChangeAgent, listAgents, requireAgentRow } from './agents.ts';

/** An access token lives an hour: a demoted person's client loses what they lost within the hour. */
export const CLIENT_ACCESS_SECONDS = 3600;
/** A consent lasts the org's token lifetime, at most 90 days, then the person signs in again. */
const MAX_GRANT_DAYS = 90;

export interface ClientTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenId: string;
}

/** Whether the caller may hold a token for this agent (the rule of `POST …/agents/{id}/tokens`). */
export async function assertMayHoldAgentToken(db: Db, ctx: OrgContext, agentId: string): Promise<AgentTable> {
  if (!can(ctx.role, 'agents.write'))
    throw new ForbiddenError('forbidden', `The ${ctx.role} role does not allow agent tokens.`);
  const agent = await requireAgentRow(db, ctx, agentId);
  assertCanChangeAgent(ctx, agent);
  return agent;
}

/** The agents the caller may hold a token for: what a consent page offers. */
export async function agentsForClientTokens(db: Db, ctx: OrgContext) {
  if (!can(ctx.role, 'agents.write')) return [];
  const all = await listAgents(db, ctx);
  return all.filter((a) => ctx.role === 'owner' || ctx.role === 'admin' || a.ownerId === ctx.userId);
}

function grantDays(ctx: OrgContext): number {
  const max = ctx.org.settings.maxTokenDays;
  return max === null ? MAX_GRANT_DAYS : Math.min(max, MAX_GRANT_DAYS);
}

/**
 * Issues a client's agent token for the person in `ctx` (their consent, exchanged now): checked
 * again as of now, holding their membership until commit (a removal waits, then revokes it).
 */
export async function issueClientToken(
  db: Kysely<Database>,
  ctx: OrgContext,
  input: { agentId: string; client: { id: string; name: string } },
): Promise<ClientTokens> {
  return db.transaction().execute(async (trx) => {
    await holdMembership(trx, ctx, ctx.scope);
    await assertMayHoldAgentToken(trx, ctx, input.agentId);
    const accessToken = newSecret('pda');
    const refreshToken = newSecret('pdr');
    const now = Date.now();
    const tokenId = newId('atk');
    const expiresAt = new Date(now + CLIENT_ACCESS_SECONDS * 1000).toISOString();
    await trx
      .insertInto('agent_tokens')
      .values({
        id: tokenId,
        org_id: ctx.scope.orgId,
        agent_id: input.agentId,
        name: input.client.name,
        token_hash: hashSecret(accessToken),
        created_by: ctx.actor.id,
        created_at: new Date(now).toISOString(),
        expires_at: expiresAt,
        revoked_at: null,
      })
      .execute();
    const refreshExpiresAt = new Date(now + grantDays(ctx) * 86_400_000).toISOString();
    await trx
      .insertInto('oauth_grants')
      .values({
        token_id: tokenId,
        client_id: input.client.id,
        refresh_hash: hashSecret(refreshToken),
        refresh_expires_at: refreshExpiresAt,
        refreshed_at: null,
      })
      .execute();
    await recordChange(trx, ctx, {
      action: 'agent.token.created',
      target: { type: 'agent', id: input.agentId },
      details: {
        tokenId,
        name: input.client.name,
        expiresAt,
        via: 'oauth',
        client: input.client,
        refreshUntil: refreshExpiresAt,
      },
    });
    return { accessToken, refreshToken, expiresIn: CLIENT_ACCESS_SECONDS, tokenId };
  });
}

const invalidGrant = (why: string) => new UnauthenticatedError('invalid_grant', why);

/** A token the token endpoint ended (its calls in flight are the caller's to end, on every replica). */
export interface EndedToken {
  orgId: string;
  tokenId: string;
}
/** Told of each token the token endpoint ends, once its revocation is committed. */
export type OnTokenEnded = (ended: EndedToken) => Promise<void>;

/**
 * Remembers a spent refresh token or code, so that presenting it again is known for a replay;
 * forgets those older than any sign-in lasts (their grants have ended, so a replay is refused anyway).
 */
async function markSpent(db: Db, secret: string, tokenId: string): Promise<void> {
  await db
    .deleteFrom('oauth_spent')
    .where('spent_at', '<', new Date(Date.now() - MAX_GRANT_DAYS * 86_400_000).toISOString())
    .execute();
  await db
    .insertInto('oauth_spent')
    .values({ secret_hash: hashSecret(secret), token_id: tokenId, spent_at: new Date().toISOString() })
    .onConflict((oc) => oc.column('secret_hash').doNothing())
    .execute();
}

/** Ends an agent token for the system, on record (once: a token already revoked stays as it was). */
async function revokeBySystem(
  db: Db,
  tokenId: string,
  requestId: string,
  why: string,
): Promise<EndedToken | null> {
  const row = await db
    .selectFrom('agent_tokens')
    .select(['id', 'org_id', 'agent_id', 'name'])
    .where('id', '=', tokenId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  const r = await db
    .updateTable('agent_tokens')
    .set({ revoked_at: new Date().toISOString() })
    .where('id', '=', row.id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return null;
  await recordChange(
    db,
    { scope: trustedScope(row.org_id), actor: { type: 'system', id: 'oauth' }, requestId },
    {
      action: 'agent.token.revoked',
      target: { type: 'agent', id: row.agent_id },
      details: { tokenId: row.id, name: row.name, why },
    },
  );
  return { orgId: row.org_id, tokenId: row.id };
}

/**
 * A spent refresh token or authorization code presented again (RFC 9700 §4.14.2, RFC 6749
 * §4.1.2): someone else holds it, or held it first. Its grant ends — the rightful client signs in
 * again; the thief keeps nothing. True when `secret` was spent (so the caller refuses it as such).
 */
export async function endGrantIfReplayed(
  db: Kysely<Database>,
  secret: string,
  requestId: string,
  what: 'refresh token' | 'authorization code',
  onEnded?: OnTokenEnded,
): Promise<boolean> {
  const spent = await db
    .selectFrom('oauth_spent')
    .select('token_id')
    .where('secret_hash', '=', hashSecret(secret))
    .executeTakeFirst();
  if (!spent) return false;
  const ended = await db
    .transaction()
    .execute((trx) =>
      revokeBySystem(trx, spent.token_id, requestId, `a spent ${what} was replayed: the grant ends`),
    );
  if (ended) await onEnded?.(ended);
  return true;
}

/** Records that the code was exchanged for this token: a second exchange ends the token. */
export async function markCodeSpent(db: Db, code: string, tokenId: string): Promise<void> {
  await markSpent(db, code, tokenId);
}

/**
 * Renews a client's agent token with its refresh token: both are replaced (the old ones stop
 * working at once), after checking that the token was not revoked, that the consent has not run
 * out, and that its person still may hold a token for the agent. A person who may no longer
 * finds the token revoked, on record.
 */
export async function refreshClientToken(
  db: Kysely<Database>,
  input: { refreshToken: string; clientId: string; requestId: string; orgSlug?: string | undefined },
  onEnded?: OnTokenEnded,
): Promise<ClientTokens> {
  const outcome = await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('oauth_grants as g')
      .innerJoin('agent_tokens as t', 't.id', 'g.token_id')
      .innerJoin('orgs as o', 'o.id', 't.org_id')
      .select(['o.slug', 't.id', 't.org_id', 't.agent_id', 't.name', 't.created_by', 't.revoked_at'])
      .select(['g.client_id', 'g.refresh_expires_at'])
      .where('g.refresh_hash', '=', hashSecret(input.refreshToken))
      .executeTakeFirst();
    if (!row) return { refused: true as const, replayed: true as const };
    if (row.client_id !== input.clientId) throw invalidGrant('The refresh token is not valid.');
    if (input.orgSlug !== undefined && input.orgSlug !== row.slug)
      throw invalidGrant('The refresh token is not for that resource.');
    if (row.revoked_at) throw invalidGrant('The agent token was revoked.');
    const now = Date.now();
    if (row.refresh_expires_at <= new Date(now).toISOString())
      throw invalidGrant('The sign-in has expired: sign in again.');
    let ctx: OrgContext;
    try {
      ctx = await personAccess(trx, row.created_by, row.org_id, input.requestId);
      await holdMembership(trx, ctx, ctx.scope);
      await assertMayHoldAgentToken(trx, ctx, row.agent_id);
    } catch (err) {
      if (!PaddockError.isInstance(err)) throw err;
      // The person was removed, or may no longer use the agent: the token ends here, on record.
      const ended = await revokeBySystem(
        trx,
        row.id,
        input.requestId,
        'its person may no longer hold a token for this agent',
      );
      return { refused: true as const, replayed: false as const, ended };
    }
    const accessToken = newSecret('pda');
    const refreshToken = newSecret('pdr');
    const expiresAt = new Date(now + CLIENT_ACCESS_SECONDS * 1000).toISOString();
    // Rotated only from the token presented: of two racing refreshes with it, one wins.
    const rotated = await trx
      .updateTable('oauth_grants')
      .set({ refresh_hash: hashSecret(refreshToken), refreshed_at: new Date(now).toISOString() })
      .where('token_id', '=', row.id)
      .where('refresh_hash', '=', hashSecret(input.refreshToken))
      .executeTakeFirst();
    // Lost the race to another refresh with the same token: that token is spent, so this is a replay.
    if (Number(rotated.numUpdatedRows) !== 1) return { refused: true as const, replayed: true as const };
    await markSpent(trx, input.refreshToken, row.id);
    await trx
      .updateTable('agent_tokens')
      .set({ token_hash: hashSecret(accessToken), expires_at: expiresAt })
      .where('id', '=', row.id)
      .execute();
    await recordChange(trx, ctx, {
      action: 'agent.token.refreshed',
      target: { type: 'agent', id: row.agent_id },
      details: { tokenId: row.id, name: row.name, expiresAt, client: { id: row.client_id } },
    });
    return {
      refused: false as const,
      tokens: { accessToken, refreshToken, expiresIn: CLIENT_ACCESS_SECONDS, tokenId: row.id },
    };
  });
  // Refused after the commit, so the revocation stays recorded.
  if (outcome.refused && outcome.replayed) {
    if (await endGrantIfReplayed(db, input.refreshToken, input.requestId, 'refresh token', onEnded))
      throw invalidGrant('The refresh token was already used: the sign-in has ended. Sign in again.');
    throw invalidGrant('The refresh token is not valid.');
  }
  if (outcome.refused) {
    if (outcome.ended) await onEnded?.(outcome.ended);
    throw invalidGrant('Its person may no longer hold a token for this agent.');
  }
  return outcome.tokens;
}
