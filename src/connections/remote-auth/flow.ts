/**
 * Connecting a remote MCP server: the browser goes to its authorization server (authorization
 * code with PKCE S256 and the RFC 8707 resource indicator) and comes back to Paddock's callback.
 * The state is random, stored only as a digest, single use, expiring in ten minutes, and bound to
 * the session (or API token) that started it, so no other browser can finish it; the code
 * verifier is sealed. The tokens are sealed in the vault; the connect is audited, never a token.
 */
import { exchangeAuthorization, startAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { recordAudit } from '../../audit/index.ts';
import { BadRequestError, ForbiddenError, PaddockError } from '../../errors/index.ts';
import type { OrgContext } from '../../identity/context.ts';
import { hashSecret, newSecret } from '../../identity/credentials.ts';
import { redactString } from '../../redact/index.ts';
import type { Db } from '../../store/index.ts';
import type { RemoteAuthPendingTable } from '../../store/schema.ts';
import type { Vault } from '../../vault/index.ts';
import { openServerAuth, readServerAuth, type ServerAuth, type SetUp, setUpServerAuth } from './config.ts';
import { egressFetch } from './egress-fetch.ts';
import { storeTokens } from './tokens.ts';

const STATE_TTL_MS = 10 * 60_000;

export interface AuthDeps {
  db: Db;
  vault: Vault;
  egress: (orgId: string) => Promise<string | null>;
  /** Where the browser comes back: `<public URL>/api/v1/connections/oauth/callback`. */
  redirectUri: string;
}

export function oauthRedirectUri(publicUrl: string): string {
  return `${publicUrl.replace(/\/$/, '')}/api/v1/connections/oauth/callback`;
}

export interface StartInput extends Partial<SetUp> {
  /** What the authorization is bound to: the session's (or API token's) own id. */
  boundTo: string;
}

/**
 * Begins connecting: sets the connection up for OAuth when it is not yet (admins only), then
 * answers the URL to send the browser to. For a per-person connection it is the caller's own
 * account; otherwise the org's (admins only).
 */
export async function startConnect(
  d: AuthDeps,
  ctx: OrgContext,
  conn: { id: string; url: string | null; transport: string },
  input: StartInput,
  mayManage: boolean,
): Promise<{ authorizationUrl: string; perPerson: boolean; setUp: boolean }> {
  if (conn.transport !== 'http' || !conn.url)
    throw new BadRequestError('not_remote', 'Only a remote (http) connection is connected with OAuth.');
  if (!ctx.userId)
    throw new ForbiddenError('person_required', 'A person connects an account, not a service token.');
  // Auditors read and change nothing, their own accounts included (no agent acts for them).
  if (ctx.role === 'auditor') throw new ForbiddenError('forbidden', 'An auditor connects no accounts.');
  const ef = await egressFetch(d.egress, ctx.scope.orgId);
  let row = await readServerAuth(d.db, ctx.scope.orgId, conn.id);
  const changing = input.clientId !== undefined || input.perPerson !== undefined || input.scope !== undefined;
  const setting = !row?.client_id || changing;
  if (setting) {
    if (!mayManage)
      throw new ForbiddenError('forbidden', 'Only an owner or admin sets up how a connection signs in.');
    await setUpServerAuth(
      d.db,
      d.vault,
      ctx,
      { id: conn.id, url: conn.url },
      ef,
      {
        perPerson: input.perPerson ?? row?.per_person === 1,
        clientId: input.clientId,
        clientSecret: input.clientSecret,
        scope: input.scope,
      },
      d.redirectUri,
    );
    row = await readServerAuth(d.db, ctx.scope.orgId, conn.id);
  }
  const perPerson = row!.per_person === 1;
  if (!perPerson && !mayManage)
    throw new ForbiddenError('forbidden', "Only an owner or admin connects the organization's account.");
  const auth = await openServerAuth(d.db, d.vault, row!);
  const state = newSecret('pdc');
  const { authorizationUrl, codeVerifier } = await startAuthorization(auth.issuer, {
    metadata: auth.metadata,
    clientInformation: auth.client,
    redirectUrl: d.redirectUri,
    state,
    ...(auth.row.scope ? { scope: auth.row.scope } : {}),
    ...(auth.resource ? { resource: new URL(auth.resource) } : {}),
  });
  const stateHash = hashSecret(state);
  const now = Date.now();
  await d.db
    .deleteFrom('remote_auth_pending')
    .where('expires_at', '<', new Date(now).toISOString())
    .execute();
  await d.db
    .insertInto('remote_auth_pending')
    .values({
      state_hash: stateHash,
      org_id: ctx.scope.orgId,
      connection_id: conn.id,
      user_key: perPerson ? ctx.userId : '',
      started_by: ctx.userId,
      session_hash: hashSecret(input.boundTo),
      code_verifier: await d.vault.seal(d.db, pendingRef(ctx.scope.orgId, stateHash), codeVerifier),
      redirect_uri: d.redirectUri,
      expires_at: new Date(now + STATE_TTL_MS).toISOString(),
    })
    .execute();
  return { authorizationUrl: authorizationUrl.href, perPerson, setUp: setting };
}

const pendingRef = (orgId: string, stateHash: string) => ({
  orgId,
  secretId: `remote-auth-pending/${stateHash}`,
  version: 1,
});

export interface Finished {
  orgId: string;
  connectionId: string;
  perPerson: boolean;
}

/**
 * Finishes connecting, from the authorization server's redirect: the state must be one this
 * session started, unexpired and unused (it is used up now, whatever follows), then the code is
 * exchanged (PKCE verifier, resource) through the egress proxy and the tokens sealed.
 */
export async function finishConnect(
  d: AuthDeps,
  who: { userId: string; boundTo: string; requestId: string },
  query: {
    state?: string | undefined;
    code?: string | undefined;
    error?: string | undefined;
    iss?: string | undefined;
  },
): Promise<Finished> {
  if (!query.state)
    throw new BadRequestError('oauth_state_missing', 'The answer has no state. Connect again.');
  const stateHash = hashSecret(query.state);
  const pending = await d.db
    .selectFrom('remote_auth_pending')
    .selectAll()
    .where('state_hash', '=', stateHash)
    .executeTakeFirst();
  // Used up by whoever presents it first (only a deletion that removed it counts).
  const used = pending
    ? await d.db.deleteFrom('remote_auth_pending').where('state_hash', '=', stateHash).executeTakeFirst()
    : undefined;
  if (!pending || Number(used?.numDeletedRows ?? 0) !== 1 || pending.expires_at < new Date().toISOString())
    throw new BadRequestError(
      'oauth_state_invalid',
      'This connect request is unknown, used or expired. Connect again.',
    );
  if (pending.session_hash !== hashSecret(who.boundTo) || pending.started_by !== who.userId)
    throw new ForbiddenError(
      'oauth_state_invalid',
      'This connect request was started in another session. Connect again.',
    );
  try {
    return await exchange(d, who, query, pending, stateHash);
  } catch (err) {
    // From here the caller's own org is known: the browser goes back to its Connections page.
    if (!PaddockError.isInstance(err)) throw err;
    throw new PaddockError(err.status, err.code, err.message, { details: { orgId: pending.org_id } });
  }
}

/** The code exchanged for tokens (the state checked), which are sealed; audited either way. */
async function exchange(
  d: AuthDeps,
  who: { userId: string; requestId: string },
  query: { code?: string | undefined; error?: string | undefined; iss?: string | undefined },
  pending: RemoteAuthPendingTable,
  stateHash: string,
): Promise<Finished> {
  const audit = (outcome: 'success' | 'failure', details: Record<string, unknown>) =>
    recordAudit(d.db, {
      orgId: pending.org_id,
      actor: { type: 'person', id: who.userId },
      action: 'connection.oauth.connected',
      target: { type: 'connection', id: pending.connection_id },
      outcome,
      requestId: who.requestId,
      details: { person: pending.user_key || null, ...details },
    });
  if (query.error || !query.code) {
    const reason = redactString(String(query.error ?? 'no code').slice(0, 100));
    await audit('failure', { reason: `the authorization server answered ${reason}` });
    throw new PaddockError(
      400,
      'oauth_denied',
      `The authorization server did not authorize Paddock (${reason}).`,
    );
  }
  const row = await readServerAuth(d.db, pending.org_id, pending.connection_id);
  if (!row) throw new BadRequestError('oauth_state_invalid', 'The connection no longer exists.');
  const auth = await openServerAuth(d.db, d.vault, row);
  // RFC 9207: an answer naming another issuer is a mix-up (or an attack): its code is not sent anywhere.
  const issue = issuerProblem(auth, query.iss);
  if (issue) {
    await audit('failure', { reason: issue.reason });
    throw new PaddockError(400, issue.code, issue.message);
  }
  const ef = await egressFetch(d.egress, pending.org_id);
  let tokens: OAuthTokens;
  try {
    tokens = await exchangeAuthorization(auth.issuer, {
      metadata: auth.metadata,
      clientInformation: auth.client,
      authorizationCode: query.code,
      codeVerifier: await d.vault.open(d.db, pendingRef(pending.org_id, stateHash), pending.code_verifier),
      redirectUri: pending.redirect_uri,
      ...(auth.resource ? { resource: new URL(auth.resource) } : {}),
      fetchFn: ef.fetch,
    });
  } catch (err) {
    const reason = redactString(ef.lastFailure() ?? (err as Error).message).slice(0, 300);
    await audit('failure', { reason });
    throw new PaddockError(
      502,
      'oauth_exchange_failed',
      `The authorization server refused the code: ${reason}`,
    );
  }
  if (tokens.token_type.toLowerCase() !== 'bearer') {
    await audit('failure', { reason: `token type ${tokens.token_type}` });
    throw new PaddockError(
      502,
      'oauth_exchange_failed',
      'The authorization server gave a token that is not a bearer token.',
    );
  }
  const stored = await storeTokens(
    d.db,
    d.vault,
    {
      orgId: pending.org_id,
      connectionId: pending.connection_id,
      userKey: pending.user_key,
      authorizedBy: who.userId,
    },
    tokens,
  );
  await audit('success', {
    authorization: stored.id,
    expiresAt: stored.expires_at,
    refreshable: stored.refresh_token !== null,
    scope: tokens.scope ?? null,
  });
  return { orgId: pending.org_id, connectionId: pending.connection_id, perPerson: row.per_person === 1 };
}

/**
 * RFC 9207 §2.4: the `iss` of an authorization response must be the authorization server's
 * issuer identifier (its metadata's `issuer`, compared as a string), and must be there when its
 * metadata says it sends one; an answer without it could be an attacker's, made without `iss`.
 */
export function issuerProblem(
  auth: Pick<ServerAuth, 'issuer' | 'metadata'>,
  iss: string | undefined,
): { code: string; reason: string; message: string } | undefined {
  if (iss === undefined) {
    // Loosely parsed metadata keeps the field, which the SDK's type does not name.
    const always = (auth.metadata as Record<string, unknown>).authorization_response_iss_parameter_supported;
    if (always !== true) return undefined;
    return {
      code: 'oauth_issuer_missing',
      reason:
        'the answer did not say which authorization server sent it, though that server says it always does',
      message:
        'The answer did not say which authorization server sent it (no iss), though that server always does: it may not be its answer. Connect again.',
    };
  }
  const expected = typeof auth.metadata.issuer === 'string' ? auth.metadata.issuer : auth.issuer;
  if (iss === expected) return undefined;
  return {
    code: 'oauth_issuer_mismatch',
    reason: 'the answer came from another authorization server',
    message: 'The answer came from another authorization server. Connect again.',
  };
}

/** Whether a connection uses OAuth, and what the caller may see of it (never a token). */
export async function oauthStatus(db: Db, ctx: OrgContext, connectionId: string) {
  const row = await readServerAuth(db, ctx.scope.orgId, connectionId);
  if (!row) return { oauth: false as const };
  const auths = await db
    .selectFrom('remote_authorizations')
    .select(['user_key', 'expires_at', 'created_at', 'refreshed_at'])
    .where('org_id', '=', ctx.scope.orgId)
    .where('connection_id', '=', connectionId)
    .execute();
  const mine = auths.find((a) => a.user_key === (row.per_person ? ctx.userId : ''));
  return {
    oauth: true as const,
    perPerson: row.per_person === 1,
    issuer: row.issuer,
    client: row.client_source,
    scope: row.scope,
    connected: mine !== undefined,
    expiresAt: mine?.expires_at ?? null,
    connectedAt: mine?.created_at ?? null,
    people: row.per_person ? auths.length : undefined,
  };
}
