/**
 * How Paddock is registered with a remote connection's authorization server: discovered once
 * (RFC 9728 protected resource metadata from the server's 401, then RFC 8414 metadata of the
 * authorization server it names), registered by RFC 7591 dynamic client registration where
 * offered, or with the client id and secret an admin entered (the secret sealed in the vault).
 */
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
  registerClient,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  AuthorizationServerMetadata,
  OAuthClientInformationFull,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import {
  checkResourceAllowed,
  resourceUrlFromServerUrl,
} from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { recordChange } from '../../audit/index.ts';
import { BadRequestError, ConflictError, PaddockError } from '../../errors/index.ts';
import type { OrgContext } from '../../identity/context.ts';
import { redactString, registerSecret } from '../../redact/index.ts';
import type { Db } from '../../store/index.ts';
import type { RemoteAuthServerTable } from '../../store/schema.ts';
import type { Vault } from '../../vault/index.ts';
import type { EgressFetch } from './egress-fetch.ts';

export interface ServerAuth {
  row: RemoteAuthServerTable;
  metadata: AuthorizationServerMetadata;
  client: OAuthClientInformationFull;
  issuer: string;
  resource: string | undefined;
}

export interface SetUp {
  perPerson: boolean;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  scope?: string | undefined;
}

const clientSecretRef = (row: Pick<RemoteAuthServerTable, 'org_id' | 'connection_id' | 'version'>) => ({
  orgId: row.org_id,
  secretId: `remote-auth-client/${row.connection_id}`,
  version: row.version,
});

export function readServerAuth(db: Db, orgId: string, connectionId: string) {
  return db
    .selectFrom('remote_auth_servers')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('connection_id', '=', connectionId)
    .executeTakeFirst();
}

/** The stored registration, its client secret opened: what token requests need. */
export async function openServerAuth(db: Db, vault: Vault, row: RemoteAuthServerTable): Promise<ServerAuth> {
  if (!row.metadata || !row.client_id || !row.issuer)
    throw new ConflictError(
      'oauth_not_set_up',
      'This connection has not been connected yet: connect it first.',
    );
  const secret = row.client_secret
    ? await vault.open(db, clientSecretRef(row), row.client_secret)
    : undefined;
  return {
    row,
    metadata: JSON.parse(row.metadata) as AuthorizationServerMetadata,
    client: {
      client_id: row.client_id,
      ...(secret ? { client_secret: secret } : {}),
      redirect_uris: [],
    },
    issuer: row.issuer,
    resource: row.resource ?? undefined,
  };
}

/** Credentials travel only encrypted, except to this machine (a local server, the tests). */
export function assertSecureUrl(url: string, what: string): URL {
  const u = URL.canParse(url) ? new URL(url) : null;
  const loopback = u && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  if (!u || (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) || u.username || u.password)
    throw new PaddockError(
      502,
      'oauth_discovery_failed',
      `The ${what} is not an https URL: ${redactString(url.slice(0, 200))}.`,
    );
  return u;
}

/** Why discovery failed, with the egress proxy's refusal when there was one. */
function discoveryError(what: string, ef: EgressFetch, err?: unknown): PaddockError {
  const why = ef.lastFailure() ?? (err instanceof Error ? err.message : undefined);
  return new PaddockError(
    502,
    'oauth_discovery_failed',
    redactString(`${what}${why ? `: ${why}` : '.'}`.slice(0, 600)),
  );
}

/**
 * Discovers the server's authorization server and registers Paddock with it, then stores the
 * result (replacing an earlier one). Each host it learns of is recorded first, so the egress
 * proxy admits it — as a public address only.
 */
export async function setUpServerAuth(
  db: Db,
  vault: Vault,
  ctx: OrgContext,
  conn: { id: string; url: string },
  ef: EgressFetch,
  input: SetUp,
  redirectUri: string,
): Promise<ServerAuth> {
  const serverUrl = assertSecureUrl(conn.url, "server's URL");
  // 1. The server's 401 names its protected resource metadata (RFC 9728), else the well-known path.
  let probe: Response;
  try {
    probe = await ef.fetch(serverUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: { name: 'paddock', version: '0.1.0' },
        },
      }),
      redirect: 'manual',
    });
    await probe.body?.cancel();
  } catch (err) {
    throw discoveryError('The MCP server did not answer', ef, err);
  }
  if (probe.status !== 401)
    throw new PaddockError(
      409,
      'oauth_not_offered',
      `The MCP server answered ${probe.status} without credentials, not 401: it does not ask for OAuth.`,
    );
  const { resourceMetadataUrl, scope: askedScope } = extractWWWAuthenticateParams(probe);
  const prm = await discoverOAuthProtectedResourceMetadata(
    serverUrl,
    resourceMetadataUrl ? { resourceMetadataUrl } : undefined,
    ef.fetch,
  ).catch((err: unknown) => {
    throw discoveryError('No protected resource metadata (RFC 9728) could be read', ef, err);
  });
  const requested = resourceUrlFromServerUrl(serverUrl);
  if (!checkResourceAllowed({ requestedResource: requested, configuredResource: prm.resource }))
    throw new PaddockError(
      502,
      'oauth_discovery_failed',
      `The protected resource metadata is for ${redactString(String(prm.resource).slice(0, 200))}, not this server.`,
    );
  const issuerText = prm.authorization_servers?.[0];
  if (!issuerText)
    throw new PaddockError(
      502,
      'oauth_discovery_failed',
      'The protected resource metadata names no authorization server.',
    );
  const issuer = assertSecureUrl(issuerText, "authorization server's URL").href;
  // Recorded before anything is asked of it: the proxy admits the hosts a registration names.
  const existing = await readServerAuth(db, ctx.scope.orgId, conn.id);
  if (existing && (existing.per_person === 1) !== input.perPerson)
    throw new ConflictError(
      'oauth_mode_fixed',
      existing.per_person
        ? 'This connection is per person: each person connects their own account. Delete and add it again to change that.'
        : 'This connection has one authorization for the org. Delete and add it again to change that.',
    );
  const version = (existing?.version ?? 0) + 1;
  const base: RemoteAuthServerTable = {
    connection_id: conn.id,
    org_id: ctx.scope.orgId,
    per_person: input.perPerson ? 1 : 0,
    resource: prm.resource,
    issuer,
    metadata: null,
    client_id: null,
    client_secret: null,
    client_source: null,
    scope: input.scope ?? askedScope ?? prm.scopes_supported?.join(' ') ?? null,
    version,
    created_by: ctx.actor.id,
    created_at: new Date().toISOString(),
  };
  await db
    .insertInto('remote_auth_servers')
    .values(base)
    .onConflict((oc) =>
      oc.column('connection_id').doUpdateSet({ ...base, connection_id: undefined } as never),
    )
    .execute();
  // 2. The authorization server's own metadata (RFC 8414, or OpenID discovery).
  const metadata = await discoverAuthorizationServerMetadata(issuer, { fetchFn: ef.fetch }).catch(
    (err: unknown) => {
      throw discoveryError(`The authorization server's metadata could not be read`, ef, err);
    },
  );
  if (!metadata) throw discoveryError(`The authorization server publishes no metadata at ${issuer}`, ef);
  // RFC 8414 §3.3: metadata naming another issuer is not that server's (and its answers' `iss`, RFC 9207, would mean nothing).
  if (metadata.issuer.replace(/\/$/, '') !== issuer.replace(/\/$/, ''))
    throw new PaddockError(
      502,
      'oauth_discovery_failed',
      `The authorization server's metadata names another issuer (${redactString(String(metadata.issuer).slice(0, 200))}), not ${issuer}: it is not used.`,
    );
  // MCP's authorization spec: PKCE with S256, and the server must say it supports it.
  if (!metadata.code_challenge_methods_supported?.includes('S256'))
    throw new PaddockError(
      502,
      'oauth_unsupported',
      'The authorization server does not offer PKCE with S256.',
    );
  for (const url of [metadata.token_endpoint, metadata.registration_endpoint])
    if (url) assertSecureUrl(url, "authorization server's endpoint");
  await db
    .updateTable('remote_auth_servers')
    .set({ metadata: JSON.stringify(metadata) })
    .where('connection_id', '=', conn.id)
    .execute();
  // 3. Who Paddock is there: the admin's client, or one registered now.
  let client: OAuthClientInformationFull;
  let source: 'registered' | 'entered';
  if (input.clientId) {
    client = {
      client_id: input.clientId,
      ...(input.clientSecret ? { client_secret: input.clientSecret } : {}),
      redirect_uris: [redirectUri],
    };
    source = 'entered';
  } else if (metadata.registration_endpoint) {
    client = await registerClient(issuer, {
      metadata,
      clientMetadata: {
        client_name: 'Paddock',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        ...(base.scope ? { scope: base.scope } : {}),
      },
      fetchFn: ef.fetch,
    }).catch((err: unknown) => {
      throw discoveryError('Registering Paddock with the authorization server failed', ef, err);
    });
    source = 'registered';
  } else {
    throw new BadRequestError(
      'client_id_required',
      'The authorization server does not offer dynamic client registration: enter the client id (and secret) you registered there.',
    );
  }
  if (client.client_secret) registerSecret(client.client_secret);
  const row: RemoteAuthServerTable = {
    ...base,
    metadata: JSON.stringify(metadata),
    client_id: client.client_id,
    client_source: source,
    client_secret: client.client_secret
      ? await vault.seal(db, clientSecretRef(base), client.client_secret)
      : null,
  };
  await db
    .updateTable('remote_auth_servers')
    .set({ client_id: row.client_id, client_secret: row.client_secret, client_source: source })
    .where('connection_id', '=', conn.id)
    .execute();
  await recordChange(db, ctx, {
    action: 'connection.oauth.configured',
    target: { type: 'connection', id: conn.id },
    details: {
      perPerson: input.perPerson,
      issuer,
      resource: prm.resource,
      client: source,
      clientId: client.client_id,
      scope: row.scope,
    },
  });
  return { row, metadata, client, issuer, resource: prm.resource };
}
