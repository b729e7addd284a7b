/**
 * Ending an OAuth authorization of a remote connection: its sealed tokens are deleted (every
 * request reads them anew, so nothing uses them after the commit) and the caller publishes the
 * returned event so that open sessions holding it end on every replica. Audited, never a token.
 */
import { recordChange } from '../../audit/index.ts';
import { ForbiddenError, NotFoundError } from '../../errors/index.ts';
import type { OrgContext } from '../../identity/context.ts';
import type { Db } from '../../store/index.ts';
import type { RemoteAuthorizationTable } from '../../store/schema.ts';
import type { Vault } from '../../vault/index.ts';
import { assertSecureUrl, openServerAuth, readServerAuth } from './config.ts';
import { egressFetch } from './egress-fetch.ts';

/** Which sessions depend on what was revoked: a person's (on one connection, or all), or a connection's. */
export type RevokedSessions =
  | { kind: 'connection'; orgId: string; connectionId: string }
  | { kind: 'person-connection'; orgId: string; userId: string; connectionId?: string };

/**
 * Disconnects the org's authorization (admins), or a person's own on a per-person connection
 * (that person, or an admin naming them).
 */
export async function disconnect(
  db: Db,
  ctx: OrgContext,
  connectionId: string,
  person: string | undefined,
  mayManage: boolean,
): Promise<{ event: RevokedSessions; ended: RemoteAuthorizationTable }> {
  const server = await db
    .selectFrom('remote_auth_servers')
    .select('per_person')
    .where('org_id', '=', ctx.scope.orgId)
    .where('connection_id', '=', connectionId)
    .executeTakeFirst();
  if (!server) throw new NotFoundError('oauth_not_connected', 'This connection does not use OAuth.');
  const userKey = server.per_person ? (person ?? ctx.userId ?? '') : '';
  const own = server.per_person === 1 && userKey === ctx.userId;
  if (!own && !mayManage)
    throw new ForbiddenError(
      'forbidden',
      'Only an owner or admin disconnects another account or the organization’s.',
    );
  const gone = await db
    .deleteFrom('remote_authorizations')
    .where('org_id', '=', ctx.scope.orgId)
    .where('connection_id', '=', connectionId)
    .where('user_key', '=', userKey)
    .returningAll()
    .execute();
  if (gone.length === 0)
    throw new NotFoundError('oauth_not_connected', 'There is no such authorization to disconnect.');
  await recordChange(db, ctx, {
    action: 'connection.oauth.revoked',
    target: { type: 'connection', id: connectionId },
    details: { authorization: gone[0]!.id, person: userKey || null, why: 'disconnected' },
  });
  const event: RevokedSessions = userKey
    ? { kind: 'person-connection', orgId: ctx.scope.orgId, userId: userKey, connectionId }
    : { kind: 'connection', orgId: ctx.scope.orgId, connectionId };
  return { event, ended: gone[0]! };
}

/**
 * A removed person's authorizations end with them (in the removal's transaction): their own on
 * per-person connections, and an org-wide one made with their account.
 */
export async function revokePersonAuthorizations(
  trx: Db,
  ctx: OrgContext,
  userId: string,
): Promise<RevokedSessions[]> {
  const gone = await trx
    .deleteFrom('remote_authorizations')
    .where('org_id', '=', ctx.scope.orgId)
    .where((eb) => eb.or([eb('user_key', '=', userId), eb('authorized_by', '=', userId)]))
    .returning(['id', 'connection_id', 'user_key'])
    .execute();
  for (const g of gone) {
    await recordChange(trx, ctx, {
      action: 'connection.oauth.revoked',
      target: { type: 'connection', id: g.connection_id },
      details: {
        authorization: g.id,
        person: g.user_key || null,
        why: 'the person who authorized it was removed',
      },
    });
  }
  const events: RevokedSessions[] = gone
    .filter((g) => !g.user_key)
    .map((g) => ({ kind: 'connection', orgId: ctx.scope.orgId, connectionId: g.connection_id }));
  if (gone.some((g) => g.user_key))
    events.push({ kind: 'person-connection', orgId: ctx.scope.orgId, userId });
  return events;
}

/**
 * Asks the authorization server to revoke the tokens of an authorization just ended (RFC 7009),
 * where it offers a revocation endpoint: best effort, through the egress proxy, after the commit
 * (the tokens are already unusable here). Answers whether the server took them.
 */
export async function revokeAtProvider(
  d: { db: Db; vault: Vault; egress: (orgId: string) => Promise<string | null> },
  ended: RemoteAuthorizationTable,
): Promise<boolean> {
  try {
    const server = await readServerAuth(d.db, ended.org_id, ended.connection_id);
    if (!server) return false;
    const auth = await openServerAuth(d.db, d.vault, server);
    const endpoint = (auth.metadata as { revocation_endpoint?: string }).revocation_endpoint;
    if (!endpoint) return false;
    // Tokens and the client secret travel only encrypted (as to the token endpoint): else none is sent.
    assertSecureUrl(endpoint, 'revocation endpoint');
    const ef = await egressFetch(d.egress, ended.org_id);
    const ref = (kind: string) => ({
      orgId: ended.org_id,
      secretId: `remote-auth/${ended.id}/${kind}`,
      version: ended.version,
    });
    const tokens: Array<[string, string]> = [];
    if (ended.refresh_token)
      tokens.push(['refresh_token', await d.vault.open(d.db, ref('refresh'), ended.refresh_token)]);
    tokens.push(['access_token', await d.vault.open(d.db, ref('access'), ended.access_token)]);
    let ok = true;
    for (const [hint, token] of tokens) {
      const body = new URLSearchParams({ token, token_type_hint: hint });
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (auth.client.client_secret) {
        const basic = `${encodeURIComponent(auth.client.client_id)}:${encodeURIComponent(auth.client.client_secret)}`;
        headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
      } else body.set('client_id', auth.client.client_id);
      const res = await ef.fetch(endpoint, { method: 'POST', headers, body, redirect: 'manual' });
      await res.body?.cancel();
      ok &&= res.ok;
    }
    return ok;
  } catch {
    return false;
  }
}

/** A person's authorizations as they are now (to ask the provider to revoke them once they end). */
export function authorizationsOf(db: Db, orgId: string, userId: string): Promise<RemoteAuthorizationTable[]> {
  return db
    .selectFrom('remote_authorizations')
    .selectAll()
    .where('org_id', '=', orgId)
    .where((eb) => eb.or([eb('user_key', '=', userId), eb('authorized_by', '=', userId)]))
    .execute();
}
