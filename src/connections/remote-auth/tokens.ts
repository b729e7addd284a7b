/**
 * A remote connection's OAuth tokens: sealed in the vault (bound to the org, the authorization
 * and its version), opened only to make a request, refreshed a minute before they expire (and
 * once when the server answers 401), one refresh at a time per authorization (a race across
 * replicas is settled by the version: the loser uses the winner's tokens). A failed refresh is
 * audited, without any token.
 */
import { refreshAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { recordAudit } from '../../audit/index.ts';
import { ForbiddenError, PaddockError } from '../../errors/index.ts';
import { newId } from '../../ids/index.ts';
import { redactString, registerSecret } from '../../redact/index.ts';
import type { Db } from '../../store/index.ts';
import type { RemoteAuthorizationTable } from '../../store/schema.ts';
import type { Vault } from '../../vault/index.ts';
import { openServerAuth, readServerAuth } from './config.ts';
import type { EgressFetch } from './egress-fetch.ts';

/** Refreshed this long before the access token expires. */
const REFRESH_EARLY_MS = 60_000;

const ref = (
  row: Pick<RemoteAuthorizationTable, 'org_id' | 'id'>,
  kind: 'access' | 'refresh',
  version: number,
) => ({
  orgId: row.org_id,
  secretId: `remote-auth/${row.id}/${kind}`,
  version,
});

function expiry(tokens: OAuthTokens): string | null {
  return tokens.expires_in ? new Date(Date.now() + tokens.expires_in * 1000).toISOString() : null;
}

/** Stores (or replaces) an authorization's tokens, sealed. */
export async function storeTokens(
  db: Db,
  vault: Vault,
  at: { orgId: string; connectionId: string; userKey: string; authorizedBy: string },
  tokens: OAuthTokens,
): Promise<RemoteAuthorizationTable> {
  registerSecret(tokens.access_token);
  if (tokens.refresh_token) registerSecret(tokens.refresh_token);
  const before = await readAuthorization(db, at.orgId, at.connectionId, at.userKey);
  const id = before?.id ?? newId('rau');
  const version = (before?.version ?? 0) + 1;
  const row: RemoteAuthorizationTable = {
    id,
    org_id: at.orgId,
    connection_id: at.connectionId,
    user_key: at.userKey,
    access_token: await vault.seal(db, ref({ org_id: at.orgId, id }, 'access', version), tokens.access_token),
    refresh_token: tokens.refresh_token
      ? await vault.seal(db, ref({ org_id: at.orgId, id }, 'refresh', version), tokens.refresh_token)
      : null,
    version,
    expires_at: expiry(tokens),
    authorized_by: at.authorizedBy,
    created_at: new Date().toISOString(),
    refreshed_at: null,
  };
  if (before) {
    const { id: _, created_at: __, ...changes } = row;
    await db.updateTable('remote_authorizations').set(changes).where('id', '=', id).execute();
  } else {
    await db.insertInto('remote_authorizations').values(row).execute();
  }
  return row;
}

export function readAuthorization(db: Db, orgId: string, connectionId: string, userKey: string) {
  return db
    .selectFrom('remote_authorizations')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('connection_id', '=', connectionId)
    .where('user_key', '=', userKey)
    .executeTakeFirst();
}

export interface TokenSource {
  /**
   * The access token to send now: refreshed first when it is about to expire, or when the server
   * answered 401 to `refused` and that is still the stored one (a burst of 401s makes one refresh).
   */
  accessToken(refused?: string): Promise<string>;
  /** Every token value opened so far (to scrub from what the server says). */
  opened: Set<string>;
}

const refreshing = new Map<string, Promise<void>>();

/**
 * Where the access token for a connection comes from, for one person ('' for the org's own
 * authorization). Each request reads the authorization anew: a revoked one is gone at once.
 */
export function tokenSource(
  o: { db: Db; vault: Vault },
  orgId: string,
  connectionId: string,
  userKey: string,
  ef: EgressFetch,
): TokenSource {
  const opened = new Set<string>();
  const open = async (row: RemoteAuthorizationTable, kind: 'access' | 'refresh') => {
    const sealed = kind === 'access' ? row.access_token : row.refresh_token;
    const value = await o.vault.open(o.db, ref(row, kind, row.version), sealed!);
    opened.add(value);
    return value;
  };
  const current = async () => {
    const row = await readAuthorization(o.db, orgId, connectionId, userKey);
    if (!row) throw notAuthorized(userKey);
    return row;
  };
  const refresh = async (row: RemoteAuthorizationTable) => {
    // A call that read the row before a refresh ended starts here with its old version: use the new tokens.
    const latest = await readAuthorization(o.db, orgId, connectionId, userKey);
    if (latest && latest.version !== row.version) return;
    const server = await readServerAuth(o.db, orgId, connectionId);
    if (!server || !row.refresh_token) throw expired(row, 'it gave no refresh token');
    const auth = await openServerAuth(o.db, o.vault, server);
    let tokens: OAuthTokens;
    try {
      tokens = await refreshAuthorization(auth.issuer, {
        metadata: auth.metadata,
        clientInformation: auth.client,
        refreshToken: await open(row, 'refresh'),
        ...(auth.resource ? { resource: new URL(auth.resource) } : {}),
        fetchFn: ef.fetch,
      });
    } catch (err) {
      // Another replica refreshed meanwhile (its rotation spent this refresh token): use its tokens.
      const now = await readAuthorization(o.db, orgId, connectionId, userKey);
      if (now && now.version !== row.version) return;
      const why = redactString(ef.lastFailure() ?? (err as Error).message).slice(0, 300);
      await recordAudit(o.db, {
        orgId,
        actor: { type: 'system', id: 'remote-auth' },
        action: 'connection.oauth.refresh_failed',
        target: { type: 'connection', id: connectionId },
        outcome: 'failure',
        details: { authorization: row.id, person: row.user_key || null, reason: why },
      });
      throw expired(row, why);
    }
    registerSecret(tokens.access_token);
    if (tokens.refresh_token) registerSecret(tokens.refresh_token);
    const version = row.version + 1;
    // Only the refresh that started from this version lands; a concurrent one's tokens are used.
    await o.db
      .updateTable('remote_authorizations')
      .set({
        access_token: await o.vault.seal(o.db, ref(row, 'access', version), tokens.access_token),
        refresh_token: tokens.refresh_token
          ? await o.vault.seal(o.db, ref(row, 'refresh', version), tokens.refresh_token)
          : null,
        version,
        expires_at: expiry(tokens),
        refreshed_at: new Date().toISOString(),
      })
      .where('id', '=', row.id)
      .where('version', '=', row.version)
      .execute();
  };
  return {
    opened,
    async accessToken(refused) {
      const row = await current();
      const due = row.expires_at !== null && Date.parse(row.expires_at) - REFRESH_EARLY_MS <= Date.now();
      if (!due) {
        const token = await open(row, 'access');
        if (refused === undefined || token !== refused) return token;
      }
      let running = refreshing.get(row.id);
      if (!running) {
        running = refresh(row).finally(() => refreshing.delete(row.id));
        refreshing.set(row.id, running);
      }
      await running;
      return open(await current(), 'access');
    },
  };
}

function notAuthorized(userKey: string): PaddockError {
  return userKey
    ? new ForbiddenError(
        'oauth_not_connected',
        'This connection acts as each person’s own account, and the person this call is for has not connected theirs (Connections page: "Connect my account").',
      )
    : new PaddockError(
        409,
        'oauth_not_connected',
        'This connection has not been connected yet: an admin connects it on the Connections page.',
      );
}

function expired(row: RemoteAuthorizationTable, why: string): PaddockError {
  return new PaddockError(
    409,
    'oauth_expired',
    `The connection's authorization${row.user_key ? ' for this person' : ''} could not be renewed (${why}): connect it again.`,
  );
}
